"""A client of the ABCI socket protocol, written from the protocol (CometBFT's side of it): for
the tests of our server and the round-trip benchmark. Requests may be pipelined; responses come
back in order on one connection."""

from __future__ import annotations

import asyncio

from ..errors import LedgerError, Reason
from .pb.tendermint.abci import types_pb2 as pb
from .server import parse_listen
from .wire import frame, read_frame


class AbciError(LedgerError):
    """The server answered with a ResponseException, or closed the connection."""


class AbciClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def connect(cls, address: str) -> AbciClient:
        host, where = parse_listen(address)
        if host == "unix":
            reader, writer = await asyncio.open_unix_connection(str(where))
        else:
            reader, writer = await asyncio.open_connection(host, int(where))
        return cls(reader, writer)

    async def close(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except ConnectionError:
            pass

    def send(self, req: pb.Request) -> None:
        self._writer.write(frame(req.SerializeToString()))

    async def receive(self) -> pb.Response:
        """The next response as it came (a ResponseException included)."""
        raw = await read_frame(self._reader)
        if raw is None:
            raise AbciError("the ABCI server closed the connection", Reason.UNAVAILABLE)
        return pb.Response.FromString(raw)

    async def call(self, req: pb.Request) -> pb.Response:
        """Send one request followed by a Flush (as CometBFT's synchronous calls do) and return
        its response."""
        self.send(req)
        self.send(pb.Request(flush=pb.RequestFlush()))
        await self._writer.drain()
        res = await self.receive()
        flushed = await self.receive()
        if flushed.WhichOneof("value") != "flush":
            raise AbciError(f"expected the Flush response, got {flushed.WhichOneof('value')}")
        return _checked(res)

    async def pipeline(self, reqs: list[pb.Request]) -> list[pb.Response]:
        """Send all, then a Flush; the responses, in order (read while sending: a server that
        waits for us to read before it reads on would otherwise deadlock a long pipeline)."""

        async def write() -> None:
            for r in reqs:
                self.send(r)
                await self._writer.drain()
            self.send(pb.Request(flush=pb.RequestFlush()))
            await self._writer.drain()

        async def read() -> list[pb.Response]:
            out = [await self.receive() for _ in reqs]
            if (await self.receive()).WhichOneof("value") != "flush":
                raise AbciError("expected the Flush response last")
            return out

        _, out = await asyncio.gather(write(), read())
        return [_checked(r) for r in out]


def _checked(res: pb.Response) -> pb.Response:
    if res.WhichOneof("value") == "exception":
        raise AbciError(f"the ABCI server failed: {res.exception.error}")
    return res
