"""RPC server and client over real HTTP on 127.0.0.1, with a toy node behind NodeApi."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ledger.errors import LedgerError, Reason
from ledger.mempool import Mempool, tx_hash
from ledger.rpc import EventFeed, RpcClient, RpcError, RpcServer, add_result_json


class ToyNode:
    """Implements NodeApi: a mempool, and a 'block' made of all pending txs on demand."""

    def __init__(self) -> None:
        self.mempool = Mempool(self.check_tx, max_tx_bytes=1000)
        self.blocks: list[dict[str, Any]] = []
        self.feed = EventFeed(max_queue=4)

    @staticmethod
    def check_tx(tx: bytes) -> tuple[bool, str]:
        return (False, "starts with bad") if tx.startswith(b"bad") else (True, "")

    def make_block(self) -> dict[str, Any]:
        txs = self.mempool.reap()
        height = len(self.blocks) + 1
        block = {
            "height": height,
            "hash": f"{height:064x}",
            "txs": [base64.b64encode(t).decode() for t in txs],
        }
        self.blocks.append(block)
        self.mempool.update(height, txs, [{"code": 0}] * len(txs))
        self.feed.publish(block)
        return block

    def status(self) -> dict[str, Any]:
        last = self.blocks[-1] if self.blocks else None
        return {"height": len(self.blocks), "hash": last["hash"] if last else None}

    async def block(self, height: int | None) -> dict[str, Any] | None:
        h = height or len(self.blocks)
        return self.blocks[h - 1] if 0 < h <= len(self.blocks) else None

    def validators(self, height: int | None) -> list[dict[str, Any]]:
        return [{"address": "aa" * 20, "power": 10}]

    def broadcast_tx(self, tx: bytes) -> dict[str, Any]:
        return add_result_json(self.mempool.add(tx))

    async def wait_tx(self, h: bytes, timeout: float) -> dict[str, Any] | None:
        got = await self.mempool.wait_committed(h, timeout)
        return (
            None
            if got is None
            else {"height": got.height, "index": got.index, "result": got.result}
        )

    def query(self, path: str, data: bytes, height: int | None) -> dict[str, Any]:
        if path == "/crash":
            raise RuntimeError("secret internals")
        if path == "/missing":
            raise LedgerError("no such account", Reason.NOT_FOUND)
        return {"path": path, "data": data.hex(), "height": height}

    def subscribe_blocks(self) -> AsyncIterator[dict[str, Any]]:
        return self.feed.subscribe()


@pytest.fixture
async def served() -> AsyncIterator[tuple[ToyNode, RpcServer, RpcClient]]:
    node = ToyNode()
    server = RpcServer(node, max_body_bytes=64 << 10, max_wait=5.0)
    await server.start()
    client = RpcClient(server.url, timeout=5.0)
    yield node, server, client
    await client.close()
    await server.stop()


async def test_queries_and_broadcast(served: tuple[ToyNode, RpcServer, RpcClient]) -> None:
    node, server, client = served
    assert server.url.startswith("http://127.0.0.1:")
    assert await client.status() == {"height": 0, "hash": None}
    assert await client.block() is None
    res = await client.broadcast_tx(b"tx-1")
    assert res == {"ok": True, "code": "ok", "hash": tx_hash(b"tx-1").hex(), "log": ""}
    assert (await client.broadcast_tx(b"tx-1"))["code"] == "duplicate"
    assert (await client.broadcast_tx(b"bad-tx"))["code"] == "rejected"
    assert (await client.broadcast_tx(b"x" * 1001))["code"] == "too_large"
    batch = await client.broadcast_txs([b"tx-2", b"tx-3", b"tx-2"])
    assert [r["code"] for r in batch] == ["ok", "ok", "duplicate"]
    block = node.make_block()
    assert await client.block() == block == await client.block(1)
    assert await client.block(2) is None
    assert (await client.status())["height"] == 1
    assert await client.validators(1) == [{"address": "aa" * 20, "power": 10}]
    assert await client.query("/bank/balance", b"\x01\x02", 1) == {
        "path": "/bank/balance",
        "data": "0102",
        "height": 1,
    }
    got = await client.wait_tx(tx_hash(b"tx-3"))
    assert got == {"height": 1, "index": 2, "result": {"code": 0}}
    assert await client.wait_tx(tx_hash(b"never"), 0.05) is None


async def test_client_errors(served: tuple[ToyNode, RpcServer, RpcClient]) -> None:
    _, server, client = served
    with pytest.raises(RpcError) as bad:
        await client.query("")
    assert bad.value.status == 400 and bad.value.reason == Reason.BAD_INPUT
    with pytest.raises(RpcError) as missing:
        await client.query("/missing")
    assert missing.value.status == 404 and str(missing.value) == "no such account"
    async with RpcClient("http://127.0.0.1:1", timeout=2) as nowhere:
        with pytest.raises(RpcError, match="cannot reach") as down:
            await nowhere.status()
    assert down.value.reason == Reason.UNAVAILABLE


async def test_broadcast_tx_commit_waits(served: tuple[ToyNode, RpcServer, RpcClient]) -> None:
    node, _, client = served
    call = asyncio.create_task(client.broadcast_tx_commit(b"tx-c", timeout=3))
    await asyncio.sleep(0.1)
    node.make_block()
    res = await call
    assert res["check_tx"]["ok"] and res["commit"]["height"] == 1
    res = await client.broadcast_tx_commit(b"bad-c", timeout=3)
    assert not res["check_tx"]["ok"] and res["commit"] is None


@pytest.mark.parametrize(
    "method, path, kw, status, code",
    [
        (
            "POST",
            "/broadcast_tx",
            {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "bad_request",
        ),
        ("POST", "/broadcast_tx", {"json": [1, 2]}, 400, "bad_request"),
        ("POST", "/broadcast_tx", {"json": {"tx": "%%%"}}, 400, "bad_request"),
        ("POST", "/broadcast_tx", {"json": {"tx": 5}}, 400, "bad_request"),
        ("POST", "/broadcast_tx", {"json": {"tx": ""}}, 400, "bad_request"),
        (
            "POST",
            "/broadcast_tx",
            {"data": b"x" * (65 << 10), "headers": {"Content-Type": "application/octet-stream"}},
            413,
            "too_large",
        ),
        (
            "POST",
            "/broadcast_txs",
            {
                "data": b"\x00\x00\x00\x09abc",
                "headers": {"Content-Type": "application/octet-stream"},
            },
            400,
            "bad_request",
        ),
        ("POST", "/broadcast_txs", {"json": {"txs": "nope"}}, 400, "bad_request"),
        (
            "POST",
            "/broadcast_tx_commit",
            {"json": {"tx": "AA==", "timeout": 999}},
            400,
            "bad_request",
        ),
        ("GET", "/block?height=abc", {}, 400, "bad_request"),
        ("GET", "/block?height=0", {}, 400, "bad_request"),
        ("GET", "/block?height=99999999999999999999999", {}, 400, "bad_request"),
        ("GET", "/tx?hash=zz", {}, 400, "bad_request"),
        ("GET", "/tx?hash=00", {}, 400, "bad_request"),
        ("GET", "/tx?hash=" + "00" * 32 + "&wait=-1", {}, 400, "bad_request"),
        ("GET", "/tx?hash=" + "00" * 32 + "&wait=nan", {}, 400, "bad_request"),
        ("GET", "/query", {}, 400, "bad_request"),
        ("GET", "/query?path=/crash", {}, 500, "internal"),
        ("GET", "/nowhere", {}, 404, "not_found"),
        ("DELETE", "/status", {}, 405, "method_not_allowed"),
    ],
)
async def test_bad_input_gets_clear_4xx(
    served: tuple[ToyNode, RpcServer, RpcClient],
    method: str,
    path: str,
    kw: dict[str, Any],
    status: int,
    code: str,
) -> None:
    node, server, _ = served
    async with aiohttp.ClientSession() as http:
        async with http.request(method, server.url + path, **kw) as resp:
            doc = await resp.json()
            assert resp.status == status, doc
            assert doc["error"]["code"] == code and doc["error"]["message"]
            assert "secret" not in doc["error"]["message"]
    assert len(node.mempool) == 0  # bad input changed nothing


async def test_subscribe_websocket_and_sse(served: tuple[ToyNode, RpcServer, RpcClient]) -> None:
    node, server, client = served
    ws_events: list[dict[str, Any]] = []

    async def ws_reader() -> None:
        async for ev in client.subscribe():
            ws_events.append(ev)
            if len(ws_events) == 2:
                return

    ws_task = asyncio.create_task(ws_reader())
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/subscribe") as resp:
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            while len(node.feed) < 2:
                await asyncio.sleep(0.01)
            node.mempool.add(b"s1")
            b1, b2 = node.make_block(), node.make_block()
            lines: list[str] = []
            while len(lines) < 2:
                line = (await resp.content.readline()).decode()
                if line.startswith("data: "):
                    lines.append(line)
    await asyncio.wait_for(ws_task, 5)
    assert [e["height"] for e in ws_events] == [1, 2]
    # both clients left: the WebSocket at once, the SSE stream on its next write
    node.make_block()
    deadline = time.monotonic() + 5
    while len(node.feed) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert len(node.feed) == 0
    assert '"height":1' in lines[0] and '"height":2' in lines[1]
    assert b1["txs"] and not b2["txs"]


async def test_slow_subscriber_dropped_and_shutdown_with_open_stream() -> None:
    feed = EventFeed(max_queue=2)
    it = feed.subscribe()
    first = asyncio.ensure_future(it.__anext__())
    await asyncio.sleep(0)
    for i in range(5):
        feed.publish(i)
    assert await first == 0
    assert await it.__anext__() == 1
    with pytest.raises(StopAsyncIteration):  # fell behind: dropped, stream ends
        while True:
            await it.__anext__()
    node = ToyNode()
    server = RpcServer(node)
    await server.start()
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/subscribe") as resp:
            assert resp.status == 200
            t0 = time.perf_counter()
            await server.stop()
            assert time.perf_counter() - t0 < 3


async def test_broadcast_throughput(served: tuple[ToyNode, RpcServer, RpcClient]) -> None:
    node, _, client = served
    n = 600
    t0 = time.perf_counter()
    for i in range(0, n, 8):
        await asyncio.gather(
            *(client.broadcast_tx(f"single-{j}".encode()) for j in range(i, i + 8))
        )
    single = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(0, 10_000, 500):
        res = await client.broadcast_txs([f"batch-{j}".encode() for j in range(i, i + 500)])
        assert all(r["ok"] for r in res)
    batched = 10_000 / (time.perf_counter() - t0)
    print(f"rpc: {single:,.0f} tx/s one per request, {batched:,.0f} tx/s in batches of 500")
    assert len(node.mempool) == n + 10_000
    assert batched > 2_000
