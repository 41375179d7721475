"""JSON RPC over HTTP for a ledger node (server over a ``NodeApi``) and its client.

Integration points (core, ``ledger/node.py``): implement ``NodeApi`` (each method may be plain
or ``async``), publish committed blocks to an ``EventFeed`` and return ``feed.subscribe()``
from ``subscribe_blocks``, then ``await RpcServer(api, port=...).start()``. Returned dicts must
be JSON-ready (hashes as hex strings, txs as base64). ``broadcast_tx`` returns a dict with at
least ``ok`` (bool) and ``hash``: ``add_result_json(mempool.add(tx))`` is that dict.

Routes (responses are ``{"result": ...}`` or ``{"error": {"code", "message"}}``)::

    GET  /health /status
    GET  /block?height=H            (latest without height; 404 when absent)
    GET  /validators?height=H
    POST /broadcast_tx              raw tx (application/octet-stream) or {"tx": b64}
    POST /broadcast_txs             u32-BE length-prefixed txs (octet-stream) or {"txs": [b64]}
    POST /broadcast_tx_commit       {"tx": b64, "timeout": s}: CheckTx, then wait for the block
    GET  /tx?hash=HEX&wait=S        commit info, or null if not committed within S seconds
    GET  /query?path=P&data=HEX&height=H
    GET  /subscribe                 new blocks: WebSocket when upgrading, else SSE

Bodies are capped (413), bad parameters give 400 with one clear sentence, no traceback leaks.
The server binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import json
import logging
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeAlias, TypeVar

import aiohttp
from aiohttp import web

from ledger.errors import LedgerError, Reason
from ledger.mempool import AddResult, tx_hash

log = logging.getLogger(__name__)
T = TypeVar("T")
MaybeAwaitable: TypeAlias = T | Awaitable[T]
_LEN = struct.Struct(">I")


class NodeApi(Protocol):
    def status(self) -> MaybeAwaitable[dict[str, Any]]: ...
    def block(self, height: int | None) -> MaybeAwaitable[dict[str, Any] | None]: ...
    def validators(self, height: int | None) -> MaybeAwaitable[list[dict[str, Any]]]: ...
    def broadcast_tx(self, tx: bytes) -> MaybeAwaitable[dict[str, Any]]: ...
    def wait_tx(self, tx_hash: bytes, timeout: float) -> Awaitable[dict[str, Any] | None]: ...
    def query(
        self, path: str, data: bytes, height: int | None
    ) -> MaybeAwaitable[dict[str, Any]]: ...
    def subscribe_blocks(self) -> AsyncIterator[dict[str, Any]]: ...


def add_result_json(res: AddResult) -> dict[str, Any]:
    return {"ok": res.ok, "code": res.code, "hash": res.hash.hex(), "log": res.log}


class EventFeed:
    """Fan-out of events to subscribers with bounded queues; a subscriber that falls
    ``max_queue`` events behind is dropped (its iterator ends) instead of slowing the node."""

    _END = object()

    def __init__(self, max_queue: int = 256) -> None:
        self.max_queue = max_queue
        self._subs: set[asyncio.Queue[Any]] = set()

    def __len__(self) -> int:
        return len(self._subs)

    def publish(self, event: Any) -> None:
        for q in list(self._subs):
            if q.qsize() >= self.max_queue:
                self._subs.discard(q)  # it gets what it has, then its stream ends
                q.put_nowait(self._END)
            else:
                q.put_nowait(event)

    def close(self) -> None:
        for q in self._subs:
            q.put_nowait(self._END)
        self._subs.clear()

    async def subscribe(self) -> AsyncIterator[Any]:
        q: asyncio.Queue[Any] = asyncio.Queue()
        self._subs.add(q)
        try:
            while True:
                item = await q.get()
                if item is self._END:
                    return
                yield item
        finally:
            self._subs.discard(q)


class BadRequest(Exception):
    pass


_STATUS = {
    Reason.BAD_INPUT: 400,
    Reason.DECODE: 400,
    Reason.INVALID: 400,
    Reason.SIGNATURE: 400,
    Reason.NOT_FOUND: 404,
    Reason.UNAVAILABLE: 503,
}


async def _call(value: Any) -> Any:
    """Await the result of a ``NodeApi`` method if it is a coroutine (sync or async impls)."""
    if inspect.isawaitable(value):
        return await value
    return value


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


def _error(status: int, code: str, message: str) -> web.Response:
    return _json({"error": {"code": code, "message": message}}, status)


def _int_param(request: web.Request, name: str, minimum: int = 1) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 19 or int(raw) < minimum:
        raise BadRequest(f"parameter {name!r} must be an integer >= {minimum}")
    return int(raw)


def _float_param(request: web.Request, name: str, default: float, maximum: float) -> float:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"parameter {name!r} must be a number of seconds") from None
    if not 0 <= value <= maximum:
        raise BadRequest(f"parameter {name!r} must be between 0 and {maximum}")
    return value


def _hex(raw: str, name: str) -> bytes:
    try:
        return bytes.fromhex(raw)
    except ValueError:
        raise BadRequest(f"{name!r} must be hex") from None


def _b64(raw: object, name: str) -> bytes:
    if not isinstance(raw, str):
        raise BadRequest(f"{name!r} must be a base64 string")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{name!r} is not valid base64") from None


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        doc = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("request body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise BadRequest("request body must be a JSON object")
    return doc


def _is_binary(request: web.Request) -> bool:
    return request.content_type == "application/octet-stream"


def _split_txs(body: bytes) -> list[bytes]:
    txs, pos = [], 0
    while pos < len(body):
        if len(body) - pos < 4:
            raise BadRequest("truncated length prefix in tx batch")
        (n,) = _LEN.unpack_from(body, pos)
        if len(body) - pos - 4 < n:
            raise BadRequest("truncated tx in batch")
        txs.append(body[pos + 4 : pos + 4 + n])
        pos += 4 + n
    return txs


async def _until_closed(ws: web.WebSocketResponse, streamer: asyncio.Task[Any]) -> None:
    async for _ in ws:
        pass
    streamer.cancel()


def create_app(
    api: NodeApi, *, max_body_bytes: int = 4 << 20, max_wait: float = 60.0, max_batch: int = 10_000
) -> web.Application:
    """The RPC ``web.Application`` (mount it or run it with ``RpcServer``)."""
    streams: set[asyncio.Task[Any]] = set()

    @web.middleware
    async def errors(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadRequest as exc:
            return _error(400, "bad_request", str(exc))
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "too_large", f"request body exceeds {max_body_bytes} bytes")
        except LedgerError as exc:  # raised by the NodeApi: a closed reason -> an HTTP status
            status = _STATUS.get(exc.reason, 500)
            return _error(status, str(exc.reason), str(exc) if status < 500 else "internal error")
        except web.HTTPException as exc:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
            return _error(exc.status, code, exc.reason)
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception:
            log.exception("RPC %s %s failed", request.method, request.path)
            return _error(500, "internal", "internal error")

    async def health(_: web.Request) -> web.Response:
        return _json({"result": {}})

    async def status(_: web.Request) -> web.Response:
        return _json({"result": await _call(api.status())})

    async def block(request: web.Request) -> web.Response:
        height = _int_param(request, "height")
        found = await _call(api.block(height))
        if found is None:
            return _error(404, "not_found", f"no block at height {height or 'latest'}")
        return _json({"result": found})

    async def validators(request: web.Request) -> web.Response:
        return _json({"result": await _call(api.validators(_int_param(request, "height")))})

    async def _one_tx(request: web.Request) -> bytes:
        if _is_binary(request):
            tx = await request.read()
        else:
            tx = _b64((await _json_body(request)).get("tx"), "tx")
        if not tx:
            raise BadRequest("empty tx")
        return tx

    async def broadcast_tx(request: web.Request) -> web.Response:
        return _json({"result": await _call(api.broadcast_tx(await _one_tx(request)))})

    async def broadcast_txs(request: web.Request) -> web.Response:
        if _is_binary(request):
            txs = _split_txs(await request.read())
        else:
            raw = (await _json_body(request)).get("txs")
            if not isinstance(raw, list):
                raise BadRequest("'txs' must be a list of base64 strings")
            txs = [_b64(t, "txs[]") for t in raw]
        if len(txs) > max_batch:
            raise BadRequest(f"batch of {len(txs)} txs exceeds {max_batch}")
        return _json({"result": [await _call(api.broadcast_tx(tx)) for tx in txs]})

    async def broadcast_tx_commit(request: web.Request) -> web.Response:
        doc = await _json_body(request)
        tx = _b64(doc.get("tx"), "tx")
        timeout = doc.get("timeout", 10.0)
        if not isinstance(timeout, int | float) or not 0 <= timeout <= max_wait:
            raise BadRequest(f"'timeout' must be between 0 and {max_wait} seconds")
        check = await _call(api.broadcast_tx(tx))
        committed = None
        if check.get("ok"):
            committed = await api.wait_tx(tx_hash(tx), float(timeout))
        return _json({"result": {"check_tx": check, "commit": committed}})

    async def tx(request: web.Request) -> web.Response:
        h = _hex(request.query.get("hash", ""), "hash")
        if len(h) != 32:
            raise BadRequest("'hash' must be 32 bytes of hex")
        wait = _float_param(request, "wait", 0.0, max_wait)
        return _json({"result": await api.wait_tx(h, wait)})

    async def query(request: web.Request) -> web.Response:
        path = request.query.get("path", "")
        if not path or len(path) > 256:
            raise BadRequest("'path' is required (at most 256 characters)")
        data = _hex(request.query.get("data", ""), "data")
        height = _int_param(request, "height")
        return _json({"result": await _call(api.query(path, data, height))})

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
    app.router.add_get("/health", health)
    app.router.add_get("/status", status)
    app.router.add_get("/block", block)
    app.router.add_get("/validators", validators)
    app.router.add_post("/broadcast_tx", broadcast_tx)
    app.router.add_post("/broadcast_txs", broadcast_txs)
    app.router.add_post("/broadcast_tx_commit", broadcast_tx_commit)
    app.router.add_get("/tx", tx)
    app.router.add_get("/query", query)
    app.router.add_get("/subscribe", subscribe)
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


class RpcError(LedgerError):
    """An RPC call failed: ``status`` is the HTTP status (0: the node could not be reached)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        reason = Reason.UNAVAILABLE if status == 0 or status >= 500 else Reason.BAD_INPUT
        super().__init__(message, Reason.NOT_FOUND if status == 404 else reason)
        self.status = status
        self.code = code


class RpcClient:
    """Client of ``RpcServer`` for the CLI and benchmarks (one session, explicit timeouts)."""

    def __init__(self, url: str, *, timeout: float = 30.0, max_connections: int = 64) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._session.close()

    async def _request(self, method: str, path: str, *, extra_wait: float = 0.0, **kw: Any) -> Any:
        kw.setdefault("timeout", aiohttp.ClientTimeout(total=self.timeout + extra_wait))
        try:
            async with self._session.request(method, self.url + path, **kw) as resp:
                try:
                    doc = await resp.json(content_type=None)
                except ValueError:
                    doc = None
                if not isinstance(doc, dict) or ("result" not in doc and "error" not in doc):
                    raise RpcError(
                        resp.status, "bad_response", f"{self.url} did not answer RPC JSON"
                    )
                if resp.status >= 400 or "error" in doc:
                    err = doc.get("error") or {}
                    raise RpcError(resp.status, err.get("code", "error"), err.get("message", ""))
                return doc["result"]
        except (aiohttp.ClientError, TimeoutError) as exc:
            msg = f"cannot reach the node RPC at {self.url} ({type(exc).__name__})"
            raise RpcError(0, "unavailable", msg) from None

    async def status(self) -> dict[str, Any]:
        return dict(await self._request("GET", "/status"))

    async def block(self, height: int | None = None) -> dict[str, Any] | None:
        params = {} if height is None else {"height": str(height)}
        try:
            return dict(await self._request("GET", "/block", params=params))
        except RpcError as exc:
            if exc.status == 404:
                return None
            raise

    async def validators(self, height: int | None = None) -> list[dict[str, Any]]:
        params = {} if height is None else {"height": str(height)}
        return list(await self._request("GET", "/validators", params=params))

    async def broadcast_tx(self, tx: bytes) -> dict[str, Any]:
        headers = {"Content-Type": "application/octet-stream"}
        return dict(await self._request("POST", "/broadcast_tx", data=tx, headers=headers))

    async def broadcast_txs(self, txs: Sequence[bytes]) -> list[dict[str, Any]]:
        body = b"".join(_LEN.pack(len(t)) + t for t in txs)
        headers = {"Content-Type": "application/octet-stream"}
        return list(await self._request("POST", "/broadcast_txs", data=body, headers=headers))

    async def broadcast_tx_commit(self, tx: bytes, timeout: float = 10.0) -> dict[str, Any]:
        body = {"tx": base64.b64encode(tx).decode(), "timeout": timeout}
        return dict(
            await self._request("POST", "/broadcast_tx_commit", json=body, extra_wait=timeout)
        )

    async def wait_tx(self, h: bytes, timeout: float = 0.0) -> dict[str, Any] | None:
        params = {"hash": h.hex(), "wait": str(timeout)}
        found = await self._request("GET", "/tx", params=params, extra_wait=timeout)
        return None if found is None else dict(found)

    async def query(
        self, path: str, data: bytes = b"", height: int | None = None
    ) -> dict[str, Any]:
        params = {"path": path, "data": data.hex()}
        if height is not None:
            params["height"] = str(height)
        return dict(await self._request("GET", "/query", params=params))

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        """New blocks as they are committed (a WebSocket; ends when the server drops us)."""
        timeout = aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0)
        async with self._session.ws_connect(
            self.url + "/subscribe", timeout=timeout, heartbeat=30.0
        ) as ws:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    yield json.loads(msg.data)
                elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return
