"""An ABCI server for CometBFT v0.38 over its socket protocol: the same `Application` object
that our engine drives in process, served on tcp://HOST:PORT or unix://PATH.

CometBFT opens four connections (consensus, mempool, info/query, snapshot); each is served by
its own task and answered strictly in order. The application is synchronous and runs on the
event loop, so calls from different connections never interleave: a CheckTx cannot see a block
half executed (CometBFT also locks its mempool around Commit)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError as ProtobufDecodeError

from ..abci import Application
from ..errors import LedgerError, Reason
from . import convert
from .pb.tendermint.abci import types_pb2 as pb
from .snapshots import Snapshots
from .wire import FramingError, frame, missing, split_frames

log = logging.getLogger("ledger.cometbft")
MAX_CONNECTIONS = 16
Handler = Callable[[Any], pb.Response]
READ_BYTES = 256 * 1024


def parse_listen(address: str) -> tuple[str, str | int]:
    """`tcp://HOST:PORT` -> ("tcp", ...); `unix://PATH` -> ("unix", PATH)."""
    scheme, sep, rest = address.partition("://")
    if sep and scheme == "unix" and rest:
        return "unix", rest
    if sep and scheme == "tcp":
        host, colon, port = rest.rpartition(":")
        if colon and host and port.isdigit() and int(port) < 65536:
            return host.strip("[]"), int(port)
    raise LedgerError(f"cannot listen on {address!r}: write tcp://HOST:PORT or unix://PATH",
                      Reason.BAD_INPUT)


class AbciServer:
    def __init__(self, app: Application, snapshots: Snapshots | None = None) -> None:
        self.app = app
        self.snapshots = snapshots
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._unix_path: Path | None = None
        self._handlers: dict[str, Handler] = {
            "echo": lambda r: pb.Response(echo=pb.ResponseEcho(message=r.message)),
            "flush": lambda r: pb.Response(flush=pb.ResponseFlush()),
            "info": self._info, "init_chain": self._init_chain, "query": self._query,
            "check_tx": self._check_tx, "commit": self._commit,
            "prepare_proposal": self._prepare, "process_proposal": self._process,
            "finalize_block": self._finalize, "extend_vote": self._extend_vote,
            "verify_vote_extension": self._verify_vote_extension,
            "list_snapshots": self._list_snapshots, "offer_snapshot": self._offer_snapshot,
            "load_snapshot_chunk": self._load_chunk, "apply_snapshot_chunk": self._apply_chunk,
        }

    # --------------------------------------------------------------- serving

    async def start(self, listen: str) -> str:
        """Listen; return the address bound (tcp port 0 picks a free one)."""
        host, where = parse_listen(listen)
        if host == "unix":
            path = Path(str(where))
            if path.is_socket():
                path.unlink()  # a stale socket from a previous run
            self._server = await asyncio.start_unix_server(self._serve, path)
            os.chmod(path, 0o600)
            self._unix_path = path
            return f"unix://{path}"
        self._server = await asyncio.start_server(self._serve, host, where)
        port = self._server.sockets[0].getsockname()[1]
        return f"tcp://{host}:{port}"

    async def serve_forever(self) -> None:
        assert self._server is not None, "start() first"
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self._unix_path is not None and self._unix_path.is_socket():
            self._unix_path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._tasks) >= MAX_CONNECTIONS:  # CometBFT opens four; more is someone else
            log.warning("refused an ABCI connection: %d are open already", len(self._tasks))
            writer.close()
            return
        self._tasks.add(task)
        pending = b""
        try:
            # Whatever has arrived is answered in one write: CometBFT pipelines its mempool's
            # CheckTx requests, and one system call per message would dominate small ones.
            while True:
                raws, pending = split_frames(pending)
                out: list[bytes] = []
                for raw in raws:
                    try:
                        req = pb.Request.FromString(raw)
                    except ProtobufDecodeError:
                        writer.write(b"".join(out) + frame(
                            _exception("the request is not a protobuf Request")))
                        return
                    out.append(frame(self.respond(req).SerializeToString()))
                if out:
                    writer.write(b"".join(out))
                    await writer.drain()
                need = missing(pending)
                if need > READ_BYTES:  # the rest of a large message, read at once
                    pending += await reader.readexactly(need)
                    continue
                chunk = await reader.read(READ_BYTES)
                if not chunk:
                    break
                pending += chunk
        except asyncio.IncompleteReadError:
            pass
        except FramingError as e:
            log.warning("ABCI connection closed: %s", e)
            writer.write(frame(_exception(str(e))))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    def respond(self, req: pb.Request) -> pb.Response:
        """One request's response; an application error becomes a ResponseException (which
        CometBFT treats as fatal on the consensus connection, as it should)."""
        kind = req.WhichOneof("value")
        handler = self._handlers.get(kind or "")
        if handler is None:
            return pb.Response.FromString(_exception(f"unsupported request {kind!r}"))
        try:
            return handler(getattr(req, kind or ""))
        except Exception as e:  # the app's error is the peer's to see, not ours to hide
            log.exception("ABCI %s failed", kind)
            return pb.Response.FromString(_exception(f"{kind}: {e}"))

    # --------------------------------------------------------------- methods

    def _info(self, r: pb.RequestInfo) -> pb.Response:
        return pb.Response(info=convert.info_out(self.app.info()))

    def _init_chain(self, r: pb.RequestInitChain) -> pb.Response:
        res = self.app.init_chain(convert.init_chain(r))
        return pb.Response(init_chain=convert.init_chain_out(res))

    def _query(self, r: pb.RequestQuery) -> pb.Response:
        res = self.app.query(r.path, r.data, r.height, r.prove)
        return pb.Response(query=convert.query_out(res, r.prove))

    def _check_tx(self, r: pb.RequestCheckTx) -> pb.Response:
        res = self.app.check_tx(r.tx, recheck=r.type == pb.RECHECK)
        return pb.Response(check_tx=convert.check_tx_out(res))

    def _commit(self, r: pb.RequestCommit) -> pb.Response:
        retain = self.app.commit()
        if self.snapshots is not None:
            try:
                self.snapshots.after_commit(self.app.info().last_block_height)
            except OSError as e:  # optional: a full disk must not halt the validator
                log.warning("no state-sync snapshot at this height: %s", e)
        return pb.Response(commit=pb.ResponseCommit(retain_height=retain))

    def _prepare(self, r: pb.RequestPrepareProposal) -> pb.Response:
        txs = self.app.prepare_proposal(convert.prepare_proposal(r))
        return pb.Response(prepare_proposal=pb.ResponsePrepareProposal(txs=txs))

    def _process(self, r: pb.RequestProcessProposal) -> pb.Response:
        ok = self.app.process_proposal(convert.process_proposal(r))
        status = pb.ResponseProcessProposal.ACCEPT if ok else pb.ResponseProcessProposal.REJECT
        return pb.Response(process_proposal=pb.ResponseProcessProposal(status=status))

    def _finalize(self, r: pb.RequestFinalizeBlock) -> pb.Response:
        log.debug("finalize_block", extra={"fields": {"height": r.height, "txs": len(r.txs)}})
        res = self.app.finalize_block(convert.finalize_block(r))
        return pb.Response(finalize_block=convert.finalize_block_out(res))

    def _extend_vote(self, r: pb.RequestExtendVote) -> pb.Response:
        return pb.Response(extend_vote=pb.ResponseExtendVote(vote_extension=b""))

    def _verify_vote_extension(self, r: pb.RequestVerifyVoteExtension) -> pb.Response:
        """We extend no vote: an empty extension is accepted, anything else is not ours."""
        v = pb.ResponseVerifyVoteExtension
        return pb.Response(verify_vote_extension=v(
            status=v.ACCEPT if not r.vote_extension else v.REJECT))

    def _list_snapshots(self, r: pb.RequestListSnapshots) -> pb.Response:
        snaps = [] if self.snapshots is None else self.snapshots.list()
        return pb.Response(list_snapshots=pb.ResponseListSnapshots(snapshots=snaps))

    def _offer_snapshot(self, r: pb.RequestOfferSnapshot) -> pb.Response:
        o = pb.ResponseOfferSnapshot
        result = o.REJECT_FORMAT if self.snapshots is None else \
            self.snapshots.offer(r.snapshot, r.app_hash)
        return pb.Response(offer_snapshot=o(result=result))

    def _load_chunk(self, r: pb.RequestLoadSnapshotChunk) -> pb.Response:
        chunk = b"" if self.snapshots is None else self.snapshots.load_chunk(r.height, r.format,
                                                                              r.chunk)
        return pb.Response(load_snapshot_chunk=pb.ResponseLoadSnapshotChunk(chunk=chunk))

    def _apply_chunk(self, r: pb.RequestApplySnapshotChunk) -> pb.Response:
        a = pb.ResponseApplySnapshotChunk
        result = a.ABORT if self.snapshots is None else \
            self.snapshots.apply_chunk(r.index, r.chunk)
        return pb.Response(apply_snapshot_chunk=a(result=result))


def _exception(message: str) -> bytes:
    return pb.Response(exception=pb.ResponseException(error=message)).SerializeToString()
