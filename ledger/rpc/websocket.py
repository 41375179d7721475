"""CometBFT's `/websocket`: JSON-RPC requests over one WebSocket, plus `subscribe` to events by
query (`tm.event='NewBlock'`, `tm.event='Tx' AND transfer.recipient='com1x'`...), each event
sent as a response carrying the subscribe request's id, as CometBFT's event bus does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..txindex import Condition
from . import query as q
from .jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, PARSE_ERROR, RpcFault, response
from .methods import NodeApi

MAX_SUBSCRIPTIONS = 5  # per connection, as CometBFT's max_subscriptions_per_client
One = Callable[[Any, str], Awaitable[tuple[dict[str, Any] | None, RpcFault | None]]]
Subs = dict[str, tuple[Any, list[Condition]]]


def _subscription(doc: dict[str, Any], subs: Subs) -> dict[str, Any]:
    """subscribe / unsubscribe / unsubscribe_all on this connection's subscriptions."""
    id_, method, params = doc.get("id"), doc["method"], doc.get("params") or {}
    query = params.get("query") if isinstance(params, dict) else \
        (params[0] if isinstance(params, list) and params else None)
    try:
        if method == "unsubscribe_all":
            if not subs:
                raise RpcFault(INTERNAL_ERROR, "subscription not found")
            subs.clear()
            return response(id_, {})
        if not isinstance(query, str):
            raise RpcFault(INVALID_PARAMS, "parameter 'query' is required")
        if method == "unsubscribe":
            if subs.pop(query, None) is None:
                raise RpcFault(INTERNAL_ERROR, "subscription not found")
            return response(id_, {})
        try:
            conds = q.parse(query)
        except q.QueryError as e:
            raise RpcFault(INVALID_PARAMS, f"invalid query: {e}") from None
        if query in subs:
            raise RpcFault(INTERNAL_ERROR, "already subscribed")
        if len(subs) >= MAX_SUBSCRIPTIONS:
            raise RpcFault(INTERNAL_ERROR,
                           f"max_subscriptions_per_client {MAX_SUBSCRIPTIONS} reached")
        subs[query] = (id_, conds)
        return response(id_, {})
    except RpcFault as f:
        return response(id_, fault=f)


async def _pump(ws: web.WebSocketResponse, api: NodeApi, subs: Subs) -> None:
    events = api.subscribe_events()
    try:
        async for batch in events:
            for query, (id_, conds) in list(subs.items()):
                for data, emap in batch:
                    if q.matches(conds, emap):
                        msg = response(id_, {"query": query, "data": data, "events": emap})
                        await ws.send_str(json.dumps(msg, separators=(",", ":")))
        await ws.close()  # we fell behind and were dropped: the client reconnects
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def handler(api: NodeApi, one: One, streams: set[asyncio.Task[Any]],
            max_message: int) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def websocket(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=max_message)
        await ws.prepare(request)
        task = asyncio.current_task()
        assert task is not None
        streams.add(task)
        subs: Subs = {}
        pump = asyncio.create_task(_pump(ws, api, subs))
        remote = request.remote or "unknown"
        try:
            async for msg in ws:
                if msg.type != web.WSMsgType.TEXT:
                    continue
                try:
                    doc = json.loads(msg.data)
                except ValueError:
                    bad = RpcFault(PARSE_ERROR, "the message is not valid JSON")
                    await ws.send_str(json.dumps(response(None, fault=bad)))
                    continue
                if isinstance(doc, dict) and doc.get("method") in ("subscribe", "unsubscribe",
                                                                   "unsubscribe_all"):
                    reply: dict[str, Any] | None = _subscription(doc, subs)
                else:
                    reply, _ = await one(doc, remote)
                if reply is not None:
                    await ws.send_str(json.dumps(reply, separators=(",", ":")))
        finally:
            pump.cancel()
            streams.discard(task)
        return ws

    return websocket
