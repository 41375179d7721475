"""The CometBFT-compatible RPC of a real single-validator node over real HTTP on 127.0.0.1:
JSON-RPC and URI forms, CometBFT's shapes, clear errors, per-client bounds, our client, and
the CLI's report of a transaction that FinalizeBlock refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ledger.cli import main as cli
from ledger.node import Node, NodeConfig
from ledger.rpc import RpcClient, RpcError, RpcServer, TxLimiter
from ledger.rpc.feed import EventFeed
from tests.ledger.homes import single_validator

RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$"



@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    n = Node(single_validator(tmp_path))
    await n.start()
    yield n
    await n.stop()


async def rpc(url: str, method: str, params: Any = None, id_: Any = 1) -> tuple[int, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        body["params"] = params
    async with aiohttp.ClientSession() as http, http.post(url + "/", json=body) as resp:
        return resp.status, await resp.json()


async def uri(url: str, path: str) -> tuple[int, Any, Any]:
    async with aiohttp.ClientSession() as http, http.get(url + path) as resp:
        return resp.status, await resp.json(), resp.headers


async def commit_tx(url: str, tx: bytes) -> dict[str, Any]:
    status, doc = await rpc(url, "broadcast_tx_commit", {"tx": base64.b64encode(tx).decode()})
    assert status == 200 and "result" in doc, doc
    return dict(doc["result"])


async def test_cometbft_shapes_over_json_rpc_and_uri(node: Node) -> None:
    url = node.rpc.url
    done = await commit_tx(url, b"colour=blue")
    h = hashlib.sha256(b"colour=blue").hexdigest().upper()
    assert done["hash"] == h and done["check_tx"]["code"] == 0 and done["tx_result"]["code"] == 0
    height = int(done["height"])
    assert height >= 1 and isinstance(done["height"], str)

    _, st = await rpc(url, "status")
    si = st["result"]["sync_info"]
    assert int(si["latest_block_height"]) >= height and si["catching_up"] is False
    assert si["latest_block_hash"] == si["latest_block_hash"].upper()
    assert st["result"]["node_info"]["version"].startswith("0.38.")
    assert st["result"]["validator_info"]["pub_key"]["type"] == "tendermint/PubKeyEd25519"

    _, blk = await rpc(url, "block", {"height": str(height)})
    b = blk["result"]
    assert b["block_id"]["hash"] == node.blocks.block(height).hash().hex().upper()
    hd = b["block"]["header"]
    assert hd["height"] == str(height) and hd["version"]["block"] == "11"
    assert set(hd) == {"version", "chain_id", "height", "time", "last_block_id",
                       "last_commit_hash", "data_hash", "validators_hash",
                       "next_validators_hash", "consensus_hash", "app_hash",
                       "last_results_hash", "evidence_hash", "proposer_address"}
    import re
    assert re.match(RFC3339, hd["time"])
    assert base64.b64decode(b["block"]["data"]["txs"][0]) == b"colour=blue"
    assert b["block"]["evidence"] == {"evidence": []}
    # The URI form answers the same, with id -1.
    status, same, _ = await uri(url, f"/block?height={height}")
    assert status == 200 and same["id"] == -1 and same["result"] == b

    _, res = await rpc(url, "block_results", {"height": str(height)})
    assert res["result"]["height"] == str(height)
    assert res["result"]["txs_results"][0]["gas_used"] == "0"

    _, com = await rpc(url, "commit", [str(height)])  # positional params too
    sh = com["result"]["signed_header"]
    assert sh["header"] == hd and sh["commit"]["block_id"]["hash"] == b["block_id"]["hash"]
    assert sh["commit"]["signatures"][0]["block_id_flag"] == 2

    _, vals = await rpc(url, "validators", {"height": str(height), "per_page": "1"})
    v = vals["result"]
    assert (v["block_height"], v["count"], v["total"]) == (str(height), "1", "1")
    assert v["validators"][0]["voting_power"] == "10"

    _, tx = await rpc(url, "tx", {"hash": base64.b64encode(bytes.fromhex(h)).decode()})
    assert tx["result"]["hash"] == h and tx["result"]["height"] == str(height)
    assert base64.b64decode(tx["result"]["tx"]) == b"colour=blue"
    status, by_uri, _ = await uri(url, f"/tx?hash=0x{h}")
    assert status == 200 and by_uri["result"] == tx["result"]

    status, q, _ = await uri(url, '/abci_query?path="/key"&data=0x' + b"colour".hex())
    assert base64.b64decode(q["result"]["response"]["value"]) == b"blue"
    assert q["result"]["response"]["proofOps"] is None

    _, found = await rpc(url, "tx_search", {"query": f"tx.height={height}"})
    assert found["result"]["total_count"] == "1" and found["result"]["txs"][0]["hash"] == h
    _, n = await rpc(url, "num_unconfirmed_txs")
    assert set(n["result"]) >= {"n_txs", "total", "total_bytes"}
    _, info = await rpc(url, "abci_info")
    assert int(info["result"]["response"]["last_block_height"]) >= height
    _, chain = await rpc(url, "blockchain", {"minHeight": "1", "maxHeight": str(height)})
    assert chain["result"]["block_metas"][0]["header"]["height"] == str(height)
    status, health, _ = await uri(url, "/health")
    assert status == 200 and health["result"] == {}


async def test_errors_are_json_rpc_objects_with_clear_data(node: Node) -> None:
    url = node.rpc.url
    _, doc = await rpc(url, "no_such_method")
    assert doc["error"]["code"] == -32601 and doc["id"] == 1
    status, doc, _ = await uri(url, "/no_such_method")
    assert status == 404 and doc["error"]["code"] == -32601
    for method, params, says in [
        ("block", {"height": "abc"}, "height must be an integer"),
        ("block", {"height": "0"}, "height must be an integer of at least 1"),
        ("tx", {"hash": "AAAA"}, "32-byte SHA-256"),
        ("tx", {}, "'hash' is required"),
        ("broadcast_tx_sync", {"tx": "%%%"}, "tx must be base64"),
        ("tx_search", {"query": "tx.height>>5"}, "invalid query"),
        ("tx_search", {"query": "transfer.amount > 'x'"}, "needs a number"),
        ("tx_search", {"query": "a.b='x' OR c.d='y'"}, "expected AND"),
        ("tx_search", {"query": "tx.height=1", "order_by": "up"}, "asc or desc"),
        ("tx_search", {"query": "tx.height=1", "page": "9"}, "page should be within"),
        ("validators", {"page": "0"}, "page must be an integer"),
    ]:
        _, doc = await rpc(url, method, params)
        err = doc["error"]
        assert err["code"] == -32602 and err["message"] == "Invalid params", (method, doc)
        assert says in err["data"], (method, err)
    _, doc = await rpc(url, "block", {"height": "99999"})
    assert doc["error"]["code"] == -32603 and "current blockchain height" in doc["error"]["data"]
    _, doc = await rpc(url, "tx", {"hash": "00" * 32})
    assert doc["error"]["code"] == -32603 and "not found" in doc["error"]["data"]
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/", data=b"{nope") as resp:
            assert (await resp.json())["error"]["code"] == -32700
        async with http.post(url + "/", json={"id": 3, "method": "status"}) as resp:
            assert (await resp.json())["error"]["code"] == -32600  # no "jsonrpc": "2.0"
        async with http.post(url + "/", json=[{"jsonrpc": "2.0", "id": 1, "method": "health"},
                                              {"jsonrpc": "2.0", "method": "health"},
                                              {"jsonrpc": "2.0", "id": 2, "method": "x"}]) as r:
            batch = await r.json()  # the notification gets no reply
            assert [d["id"] for d in batch] == [1, 2] and batch[1]["error"]["code"] == -32601
        async with http.post(url + "/", data=b"x" * (5 << 20)) as resp:
            assert resp.status == 413 and "exceeds" in (await resp.json())["error"]["data"]


async def test_per_client_bound_answers_busy_with_retry_after(node: Node) -> None:
    limiter = TxLimiter(rate=2, burst=3, max_in_flight=1)
    server = RpcServer(node.api, limiter=limiter)
    await server.start()
    try:
        for i in range(3):
            _, doc = await rpc(server.url, "broadcast_tx_sync",
                               {"tx": base64.b64encode(f"k{i}=v".encode()).decode()})
            assert doc["result"]["code"] == 0
        status, doc = await rpc(server.url, "broadcast_tx_sync", {"tx": "az1i"})
        assert status == 429 and doc["error"]["code"] == -32000
        assert doc["error"]["data"] == "busy: too many transactions from 127.0.0.1, retry in 1 s"
        status, doc, headers = await uri(server.url, "/broadcast_tx_sync?tx=0x6b3d62")
        assert status == 429 and headers["Retry-After"] == "1"
        # Reads are not bounded; after the wait, submission works again.
        assert (await uri(server.url, "/status"))[0] == 200
        await asyncio.sleep(1.0)
        _, doc = await rpc(server.url, "broadcast_tx_sync", {"tx": "az1i"})
        assert doc["result"]["code"] == 0
        async with RpcClient(server.url, timeout=5) as c:  # a batch over the bound: busy
            assert {r["code"] for r in await c.broadcast_txs([b"z=1"] * 3)} == {"busy"}
        # In flight: a second broadcast_tx_commit while one waits is refused.
        first = asyncio.create_task(commit_tx(server.url, b"slow=1"))
        while not limiter.in_flight("127.0.0.1"):  # a loaded machine may take a while
            await asyncio.sleep(0.005)
        status, doc = await rpc(server.url, "broadcast_tx_commit", {"tx": "bT0y"})
        assert status == 429 and "requests in flight" in doc["error"]["data"]
        assert (await first)["tx_result"]["code"] == 0
    finally:
        await server.stop()


async def test_client_views_batches_and_restart_keeps_the_index(tmp_path: Path) -> None:
    home = single_validator(tmp_path)
    node = Node(home)
    await node.start()
    try:
        async with RpcClient(node.rpc.url, timeout=10) as c:
            res = await c.broadcast_tx_commit(b"b=2", timeout=10)
            assert res["check_tx"]["ok"] and res["commit"]["code"] == 0
            first = res["commit"]
            got = await c.broadcast_txs([f"m{i}=x".encode() for i in range(5)] + [b"bad"])
            assert [r["ok"] for r in got] == [True] * 5 + [False]
            st = await c.status()
            assert st["height"] >= first["height"] and st["peers"] == 0
            blk = await c.block(first["height"])
            assert blk is not None and blk["txs"] == [base64.b64encode(b"b=2").decode()]
            assert blk["header"]["height"] == first["height"] and blk["time"] > 0
            assert await c.block(10_000) is None
            assert [v["power"] for v in await c.validators()] == [10]
            assert (await c.query("/key", b"b"))["value_text"] == "2"
            dup = await c.broadcast_tx(b"b=2")
            assert not dup["ok"]
            feed = c.subscribe()
            ev = await asyncio.wait_for(feed.__anext__(), 10)
            await feed.aclose()
            assert (await c.block(ev["height"]))["hash"] == ev["hash"]  # type: ignore[index]
            h = bytes.fromhex(res["check_tx"]["hash"])
    finally:
        await node.stop()
    node = Node(home)  # a restart: the index is on disk, re-indexing is a no-op
    await node.start()
    try:
        async with RpcClient(node.rpc.url, timeout=10) as c:
            again = await c.tx(h)
            assert again is not None and again["height"] == first["height"]
            total, txs = await c.tx_search(f"tx.height<={node.replica.height}")
            assert total == 6 and txs[0]["hash"] == h.hex()
            assert await c.wait_tx(hashlib.sha256(b"never").digest(), 0.1) is None
    finally:
        await node.stop()


class RefusingNode:
    """A node whose FinalizeBlock refuses every transaction (CheckTx passes): what the CLI
    must report as a failure. Only what `ledger tx` calls is implemented."""

    def __init__(self) -> None:
        self.feed = EventFeed()

    def broadcast_tx(self, tx: bytes) -> dict[str, Any]:
        return {"ok": True, "code": "ok", "hash": hashlib.sha256(tx).hexdigest(), "log": ""}

    def tx(self, h: bytes) -> dict[str, Any]:
        return {"hash": h.hex().upper(), "height": "7", "index": 0, "tx": "eD0x",
                "tx_result": {"code": 5, "log": "insufficient funds: 3 < 10", "data": None,
                              "gas_wanted": "0", "gas_used": "0", "events": []}}

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


async def test_cli_tx_wait_reports_a_refused_transaction(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    server = RpcServer(RefusingNode())  # type: ignore[arg-type]
    await server.start()
    try:
        NodeConfig(rpc_port=server.port, application="kvstore").save(tmp_path)
        code = await asyncio.to_thread(cli, ["ledger", "tx", "x=1", "--dir", str(tmp_path)])
        err = capsys.readouterr().err
        assert code == 1 and "failed at height 7 (code 5): insufficient funds: 3 < 10" in err
        code = await asyncio.to_thread(cli, ["ledger", "query", "tx", "00" * 32, "--dir",
                                             str(tmp_path)])
        assert code == 1 and "failed (code 5)" in capsys.readouterr().out
    finally:
        await server.stop()


async def test_subscribe_sse_and_slow_subscriber(node: Node) -> None:
    async with aiohttp.ClientSession() as http, http.get(node.rpc.url + "/subscribe") as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        line = ""
        deadline = time.monotonic() + 10
        while not line.startswith("data: ") and time.monotonic() < deadline:
            line = (await resp.content.readline()).decode()
        assert json.loads(line[6:])["height"] >= 1
    feed = EventFeed(max_queue=2)
    it = feed.subscribe()
    first = asyncio.ensure_future(it.__anext__())
    await asyncio.sleep(0)
    for i in range(5):
        feed.publish(i)
    assert await first == 0 and await it.__anext__() == 1
    with pytest.raises(StopAsyncIteration):  # fell behind: dropped, its stream ends
        while True:
            await it.__anext__()


async def test_unreachable_node_is_one_sentence() -> None:
    async with RpcClient("http://127.0.0.1:1", timeout=2) as nowhere:
        with pytest.raises(RpcError, match="cannot reach"):
            await nowhere.status()


async def test_websocket_json_rpc_and_event_subscriptions(node: Node) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(node.rpc.url + "/websocket") as ws:
        async def ask(doc: dict[str, Any]) -> dict[str, Any]:
            await ws.send_json({"jsonrpc": "2.0", **doc})
            while True:  # events may arrive in between: skip them
                got = await asyncio.wait_for(ws.receive_json(), 10)
                if got["id"] == doc["id"] and "query" not in (got.get("result") or {}):
                    return dict(got)

        st = await ask({"id": "s", "method": "status"})
        assert int(st["result"]["sync_info"]["latest_block_height"]) >= 0
        assert (await ask({"id": 1, "method": "subscribe",
                           "params": {"query": "tm.event='NewBlock'"}}))["result"] == {}
        assert (await ask({"id": 2, "method": "subscribe",
                           "params": {"query": "tm.event='Tx' AND tx.height>0"}}))["result"] == {}
        bad = await ask({"id": 3, "method": "subscribe", "params": {"query": "tm.event=="}})
        assert bad["error"]["code"] == -32602 and "invalid query" in bad["error"]["data"]
        tx = base64.b64encode(b"ws=1").decode()
        assert (await ask({"id": 4, "method": "broadcast_tx_sync",
                           "params": {"tx": tx}}))["result"]["code"] == 0
        seen: dict[Any, dict[str, Any]] = {}
        while 2 not in seen or 1 not in seen:
            ev = await asyncio.wait_for(ws.receive_json(), 10)
            seen.setdefault(ev["id"], ev["result"])
        txr = seen[2]["data"]["value"]["TxResult"]
        assert seen[2]["data"]["type"] == "tendermint/event/Tx" and txr["tx"] == tx
        assert seen[2]["events"]["tx.hash"] == [hashlib.sha256(b"ws=1").hexdigest().upper()]
        nb = seen[1]["data"]
        assert nb["type"] == "tendermint/event/NewBlock"
        assert seen[1]["query"] == "tm.event='NewBlock'"
        assert int(nb["value"]["block"]["header"]["height"]) >= 1
        assert (await ask({"id": 5, "method": "unsubscribe",
                           "params": {"query": "tm.event='NewBlock'"}}))["result"] == {}
        gone = await ask({"id": 6, "method": "unsubscribe", "params": {"query": "tm.event='x'"}})
        assert gone["error"]["data"] == "subscription not found"
        for i in range(4):
            await ask({"id": 10 + i, "method": "subscribe",
                       "params": {"query": f"tm.event='Tx' AND tx.height>{i + 1}"}})
        full = await ask({"id": 20, "method": "subscribe", "params": {"query": "a.b EXISTS"}})
        assert "max_subscriptions_per_client 5" in full["error"]["data"]


class BusyNode:
    """A node that answers `busy` when overloaded (its submit path, async): the RPC must say
    so as a retryable refusal, not as a rejected transaction."""

    async def broadcast_tx(self, tx: bytes) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"ok": False, "code": "busy", "hash": hashlib.sha256(tx).hexdigest(),
                "log": "the mempool is 95% full", "retry_after": 2}


async def test_an_overloaded_node_answers_503_with_retry_after() -> None:
    server = RpcServer(BusyNode())  # type: ignore[arg-type]
    await server.start()
    try:
        status, doc = await rpc(server.url, "broadcast_tx_sync", {"tx": "eD0x"})
        assert status == 503 and doc["error"]["code"] == -32000
        assert doc["error"]["data"] == "busy: the mempool is 95% full"
        status, _, headers = await uri(server.url, "/broadcast_tx_async?tx=0x783d31")
        assert status == 503 and headers["Retry-After"] == "2"
        async with RpcClient(server.url, timeout=5) as c:
            with pytest.raises(RpcError, match="busy") as e:
                await c.broadcast_tx(b"x=1")
            assert e.value.reason.name == "UNAVAILABLE"
            assert [r["code"] for r in await c.broadcast_txs([b"x=1"])] == ["busy"]
    finally:
        await server.stop()
