"""The node's RPC over HTTP: CometBFT's JSON-RPC 2.0 (`POST /`, single or batch) and URI form
(`GET /<method>?arg=...`), plus our own routes that CometBFT lacks and that conflict with none
of its names: `POST /broadcast_txs` (a batch of transactions: u32-BE length-prefixed
octet-stream or {"txs": [b64]}) and `GET /subscribe` (new blocks, WebSocket or SSE); and
CometBFT's `GET /websocket` (JSON-RPC and event subscriptions, `websocket.py`).

Bodies are capped (413); transaction submission is bounded per remote address (429 with
Retry-After). The server binds 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..errors import LedgerError
from . import websocket
from .jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcFault,
    read_params,
    response,
)
from .limits import TxLimiter
from .methods import Method, NodeApi, call, methods

log = logging.getLogger(__name__)
LEN = struct.Struct(">I")
_URI_STATUS = {INVALID_REQUEST: 400, INVALID_PARAMS: 400, METHOD_NOT_FOUND: 404,
               PARSE_ERROR: 400}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        content_type="application/json", headers=headers)


def _fault_response(id_: Any, fault: RpcFault, status: int) -> web.Response:
    headers = None
    if fault.retry_after is not None:
        status = fault.http_status or 429
        headers = {"Retry-After": str(fault.retry_after)}
    return _json(response(id_, fault=fault), status, headers)


def _split_txs(body: bytes) -> list[bytes]:
    txs, pos = [], 0
    while pos < len(body):
        if len(body) - pos < 4:
            raise RpcFault(INVALID_PARAMS, "truncated length prefix in the tx batch")
        (n,) = LEN.unpack_from(body, pos)
        if len(body) - pos - 4 < n:
            raise RpcFault(INVALID_PARAMS, "truncated tx in the batch")
        txs.append(body[pos + 4: pos + 4 + n])
        pos += 4 + n
    return txs


async def _until_closed(ws: web.WebSocketResponse, streamer: asyncio.Task[Any]) -> None:
    async for _ in ws:
        pass
    streamer.cancel()


def create_app(api: NodeApi, *, max_body_bytes: int = 4 << 20, max_wait: float = 60.0,
               max_batch: int = 10_000, max_requests: int = 100,
               limiter: TxLimiter | None = None) -> web.Application:
    """The RPC ``web.Application`` (mount it or run it with ``RpcServer``)."""
    table = methods(api, max_wait)
    bound = limiter or TxLimiter()
    streams: set[asyncio.Task[Any]] = set()

    async def run(m: Method, kw: dict[str, Any], remote: str) -> Any:
        try:
            if m.txs:
                with bound.admit(remote, 1):
                    return await m.run(**kw)
            return await m.run(**kw)
        except LedgerError as e:  # the node's own one-sentence refusal
            raise RpcFault(INTERNAL_ERROR, str(e)) from None

    async def one(doc: Any, remote: str) -> tuple[dict[str, Any] | None, RpcFault | None]:
        """One request's response (None for a notification) and the fault it carries."""
        if not isinstance(doc, dict):
            f = RpcFault(INVALID_REQUEST, "a request is a JSON object")
            return response(None, fault=f), f
        if doc.get("id") is None:
            return None, None  # a notification (no id, or null): no reply, as CometBFT
        id_ = doc["id"]
        try:
            if doc.get("jsonrpc") != "2.0" or not isinstance(doc.get("method"), str):
                raise RpcFault(INVALID_REQUEST, 'a request needs "jsonrpc": "2.0" and a method')
            m = table.get(doc["method"])
            if m is None:
                raise RpcFault(METHOD_NOT_FOUND, f"no method {doc['method'][:64]!r}")
            kw = read_params(m.params, doc.get("params"))
            return response(id_, await run(m, kw, remote)), None
        except RpcFault as f:
            return response(id_, fault=f), f

    @web.middleware
    async def errors(request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
        try:
            return await handler(request)
        except RpcFault as f:
            return _fault_response(-1, f, _URI_STATUS.get(f.code, 500))
        except web.HTTPRequestEntityTooLarge:
            big = RpcFault(INVALID_REQUEST, f"the request body exceeds {max_body_bytes} bytes")
            return _fault_response(-1, big, 413)
        except web.HTTPException as e:
            code = METHOD_NOT_FOUND if e.status == 404 else INVALID_REQUEST
            return _fault_response(-1, RpcFault(code, f"{request.method} {request.path}: "
                                                f"{e.reason}"), e.status)
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception:
            log.exception("RPC %s %s failed", request.method, request.path)
            return _fault_response(-1, RpcFault(INTERNAL_ERROR, "internal error"), 500)

    async def jsonrpc(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise RpcFault(PARSE_ERROR, "the request body is not valid JSON") from None
        remote = request.remote or "unknown"
        if isinstance(doc, list):
            if not doc or len(doc) > max_requests:
                raise RpcFault(INVALID_REQUEST, f"a batch holds 1 to {max_requests} requests")
            out = [r for r, _ in [await one(d, remote) for d in doc] if r is not None]
            return _json(out)
        res, fault = await one(doc, remote)
        if res is None:
            return web.Response(status=204)
        if fault is not None and fault.retry_after is not None:
            return _fault_response(res["id"], fault, 429)  # plain HTTP clients see 429 too
        return _json(res)

    async def uri(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        m = table.get(name)
        if m is None:
            raise RpcFault(METHOD_NOT_FOUND, f"no method {name[:64]!r}")
        kw = read_params(m.params, None, uri=request.query)
        return _json(response(-1, await run(m, kw, request.remote or "unknown")))

    async def index(_: web.Request) -> web.Response:
        return _json({"methods": sorted(table), "websocket": "/websocket",
                      "extras": ["/broadcast_txs", "/subscribe"]})

    async def broadcast_txs(request: web.Request) -> web.Response:
        body = await request.read()
        if request.content_type == "application/octet-stream":
            txs = _split_txs(body)
        else:
            try:
                raw = json.loads(body).get("txs")
                txs = [base64.b64decode(t, validate=True) for t in raw]
            except (ValueError, TypeError, AttributeError, binascii.Error):
                raise RpcFault(INVALID_PARAMS, '"txs" must be a list of base64 strings') from None
        if len(txs) > max_batch:
            raise RpcFault(INVALID_PARAMS, f"a batch of {len(txs)} txs exceeds {max_batch}")
        with bound.admit(request.remote or "unknown", len(txs)):
            # All offered at once: the node's ingestion sees the whole batch and can say busy.
            answers = await asyncio.gather(*(call(api.broadcast_tx(tx)) for tx in txs))
            return _json(response(-1, list(answers)))

    async def subscribe(request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        streams.add(task)
        events = api.subscribe_blocks()
        try:
            ws = web.WebSocketResponse(heartbeat=30.0)
            if ws.can_prepare(request).ok:
                await ws.prepare(request)
                # Reading is what answers pings and notices the client leaving: then stop.
                watcher = asyncio.create_task(_until_closed(ws, task))
                try:
                    async for event in events:
                        await ws.send_str(json.dumps(event, separators=(",", ":")))
                finally:
                    watcher.cancel()
                await ws.close()
                return ws
            sse = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            sse.headers["Cache-Control"] = "no-cache"
            await sse.prepare(request)
            async for event in events:
                data = json.dumps(event, separators=(",", ":"))
                await sse.write(f"event: block\ndata: {data}\n\n".encode())
            return sse
        finally:
            streams.discard(task)
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()  # release the subscription now, not at garbage collection

    async def on_shutdown(_: web.Application) -> None:
        for t in list(streams):  # long-lived streams would otherwise hold shutdown
            t.cancel()

    app = web.Application(middlewares=[errors], client_max_size=max_body_bytes)
    app.on_shutdown.append(on_shutdown)
    app.router.add_post("/", jsonrpc)
    app.router.add_get("/", index)
    app.router.add_post("/broadcast_txs", broadcast_txs)
    app.router.add_get("/subscribe", subscribe)
    app.router.add_get("/websocket", websocket.handler(api, one, streams, max_body_bytes))
    app.router.add_get("/{method}", uri)
    return app


class RpcServer:
    def __init__(self, api: NodeApi, host: str = "127.0.0.1", port: int = 0, **opts: Any) -> None:
        self.app = create_app(api, **opts)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
