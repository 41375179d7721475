"""Bounded ingestion on a real single-validator node: a flood of transactions from clients or
peers never holds up consensus; beyond the bound clients are told "busy" and gossip is dropped
without blaming the peer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ledger import crypto
from ledger.consensus.messages import TxMsg, encode_msg
from ledger.crypto import PrivateKey
from ledger.ingest import Ingest
from ledger.kvstore import make_signed_tx
from ledger.mempool import AddResult, tx_hash
from ledger.node import CH_MEMPOOL, Node
from ledger.p2p import NodeKey, PeerAddress, PeerManager
from tests.ledger.homes import single_validator


def signed_txs(count: int, tag: str) -> list[bytes]:
    keys = [PrivateKey.from_secret(f"ingest-{tag}-{i}".encode()) for i in range(8)]
    return [make_signed_tx(keys[i % 8], i, f"k{i}=v{i}".encode()) for i in range(count)]


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    n = Node(single_validator(tmp_path))
    await n.start()
    yield n
    await n.stop()


async def _until(cond: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_blocks_keep_coming_while_a_large_backlog_is_checked(node: Node) -> None:
    node.ingest.capacity = 10_000
    txs = signed_txs(6000, "flood")
    await _until(lambda: node.replica.height >= 2)
    commits: list[float] = []
    last = node.replica.height

    async def watch() -> None:
        nonlocal last
        while True:
            if node.replica.height != last:
                last = node.replica.height
                commits.append(time.monotonic())
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    start = time.monotonic()
    results = await asyncio.gather(*(node.submit_tx(t) for t in txs))
    flood_end = time.monotonic()
    watcher.cancel()
    assert all(r["ok"] for r in results)
    # While the 6000 signatures were being checked, blocks were committed at a steady pace.
    marks = [start, *commits, flood_end]
    gaps = [b - a for a, b in zip(marks, marks[1:], strict=False)]
    assert len(commits) >= 3 and max(gaps) < 1.0, (len(commits), max(gaps), flood_end - start)


async def test_submit_answers_busy_when_full_and_accepts_once_drained(node: Node) -> None:
    node.ingest.capacity = 5
    txs = signed_txs(202, "busy")
    # All offered in one loop iteration: a few are checked at once (this iteration's budget),
    # five wait in the queue, the rest are refused.
    results = await asyncio.gather(*(node.submit_tx(t) for t in txs[:200]))
    ok = sum(1 for r in results if r["ok"])
    assert 5 <= ok < 200 and all(r["ok"] for r in results[:ok])
    refused = results[ok:]
    assert all(r["code"] == "busy" for r in refused)
    busy = refused[0]
    assert busy["hash"] == tx_hash(txs[ok]).hex()
    assert busy["log"].startswith("the node is busy (") and busy["log"].endswith(
        "transactions waiting): retry later")
    assert node.ingest_status()["ingest_busy"] == len(refused)
    # Drained: the next ones are accepted, including one refused before.
    assert len(node.ingest) == 0
    again = await asyncio.gather(*(node.submit_tx(t) for t in (txs[ok], txs[200])))
    assert all(r["ok"] and r["code"] == "ok" for r in again)
    # A full mempool is busy too, not "accepted".
    node.mempool.max_txs = len(node.mempool)
    r = await node.submit_tx(txs[201])
    assert not r["ok"] and r["code"] == "busy"


async def test_gossip_beyond_the_bound_is_dropped_without_penalty(node: Node) -> None:
    node.ingest.capacity = 10
    peer = PeerManager(NodeKey.generate(), lambda *a: None, port=0,
                       persistent_peers=[PeerAddress(node.peers.id, "127.0.0.1",
                                                     node.peers.address.port)],
                       network=node.genesis.chain_id.encode())
    await peer.start()
    try:
        await _until(lambda: bool(peer.peers()))
        txs = signed_txs(50, "gossip")
        assert peer.send(node.peers.id, CH_MEMPOOL, encode_msg(TxMsg(tuple(txs))))
        await _until(lambda: node.ingest.stats["dropped"] >= 40 and len(node.ingest) == 0)
        assert node.ingest.stats["dropped"] == 40
        assert node.ingest.stats["accepted"] == 10  # the first ten reached the mempool
        assert all(tx_hash(t) in node.mempool or node.mempool.committed(tx_hash(t))
                   for t in txs[:10])
        assert node.peers.score(peer.id) == 0  # not the peer's fault
        assert peer.peers() == [node.peers.id]  # still connected
    finally:
        await peer.stop()


async def test_listed_signatures_are_verified_off_the_loop_and_cached() -> None:
    key = PrivateKey.from_secret(b"ingest-sig")
    msgs = [f"m{i}".encode() for i in range(200)]
    txs = {m: key.sign(m) for m in msgs}
    bad = msgs[7]
    txs[bad] = bytes(64)
    seen: list[bytes] = []

    def admit(tx: bytes, sender: str | None) -> AddResult:
        seen.append(tx)
        return AddResult(True, "ok", tx_hash(tx))

    # slice_seconds=0: nothing is checked on the spot, every batch goes through the thread.
    ing = Ingest(admit, signatures=lambda m: [(key.pub_key, m, txs[m])], batch=64,
                 slice_seconds=0)
    ing.start()
    try:
        futs = [ing.offer(m) for m in msgs]
        await asyncio.gather(*(f for f in futs if f is not None))
    finally:
        await ing.stop()
    assert seen == msgs and ing.stats["preverified"] == 199
    # The valid ones are in verify's cache: checking them again costs a lookup.
    t0 = time.perf_counter()
    assert all(crypto.verify(key.pub_key, m, txs[m]) for m in msgs if m != bad)
    assert time.perf_counter() - t0 < 0.02
    assert not crypto.verify(key.pub_key, bad, txs[bad])


async def test_clients_come_first_and_a_long_wait_means_busy() -> None:
    order: list[bytes] = []

    def admit(tx: bytes, sender: str | None) -> AddResult:
        order.append(tx)
        return AddResult(True, "ok", tx_hash(tx))

    ing = Ingest(admit, max_wait=0.05, slice_seconds=0)  # no checking on the spot
    assert ing.offer(b"g1", "peer") is None and ing.offer(b"g2", "peer") is None  # no reply
    first = ing.offer(b"c1")
    assert first is not None
    await asyncio.sleep(0.1)  # nobody drains: the oldest client tx has waited too long
    assert ing.offer(b"c2") is None and ing.stats["busy"] == 1
    ing.start()
    try:
        assert (await first).ok
        await _until(lambda: len(ing) == 0)
        assert order == [b"c1", b"g1", b"g2"]  # the client's tx before the gossiped ones
        assert ing.offer(b"c2") is not None  # drained: accepted again
    finally:
        await ing.stop()


async def test_signatures_already_known_valid_are_not_checked_again() -> None:
    key = PrivateKey.from_secret(b"ingest-known")
    msgs = [f"k{i}".encode() for i in range(20)]
    sigs = {m: key.sign(m) for m in msgs}
    crypto.remember_valid([(key.pub_key, m, sigs[m]) for m in msgs[:15]])  # a block's, say

    def admit(tx: bytes, sender: str | None) -> AddResult:
        return AddResult(True, "ok", tx_hash(tx))

    ing = Ingest(admit, signatures=lambda m: [(key.pub_key, m, sigs[m])], slice_seconds=0)
    ing.start()
    try:
        await asyncio.gather(*(f for f in (ing.offer(m) for m in msgs) if f is not None))
    finally:
        await ing.stop()
    assert ing.stats["preverified"] == 5 and ing.stats["accepted"] == 20
