"""State sync of the ledger app's store through the ABCI snapshot calls, over a real socket:
snapshots taken after Commit, listed and served in chunks, restored on an empty node only when
the rebuilt root is the trusted app hash."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ledger.app import client
from ledger.app.app import LedgerApp
from ledger.app.store import VersionedStore
from ledger.cometbft.client import AbciClient
from ledger.cometbft.pb.tendermint.abci import types_pb2 as pb
from ledger.cometbft.server import AbciServer
from ledger.cometbft.statesync import StoreSnapshots
from ledger.crypto import PrivateKey
from tests.ledger.app.apphelpers import ALICE, CHAIN, new_app, run_block, text

Offer, Apply = pb.ResponseOfferSnapshot, pb.ResponseApplySnapshotChunk


def _source(tmp: Path, blocks: int = 6) -> tuple[LedgerApp, StoreSnapshots]:
    app = new_app(store=VersionedStore.open(tmp / "src.db"))
    snaps = StoreSnapshots(app, tmp / "snaps", interval=3, keep=2, chunk_bytes=200)
    for h in range(1, blocks + 1):
        to = text(PrivateKey.from_secret(f"r{h}".encode()))
        run_block(app, [client.send(ALICE, CHAIN, h - 1, to, 10 * h)])
        snaps.after_commit(app.info().last_block_height)
    return app, snaps


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[AbciClient, AbciClient, LedgerApp,
                                                      LedgerApp, Path]]:
    src, src_snaps = _source(tmp_path)
    dst = LedgerApp(VersionedStore.open(tmp_path / "dst.db"))
    servers = [AbciServer(src, src_snaps),
               AbciServer(dst, StoreSnapshots(dst, tmp_path / "dst-snaps", interval=3))]
    clients = [await AbciClient.connect(await s.start(f"unix://{tmp_path}/{i}.sock"))
               for i, s in enumerate(servers)]
    yield clients[0], clients[1], src, dst, tmp_path
    for c in clients:
        await c.close()
    for s in servers:
        await s.close()


async def _chunks(c: AbciClient, snap: pb.Snapshot) -> list[bytes]:
    return [(await c.call(pb.Request(load_snapshot_chunk=pb.RequestLoadSnapshotChunk(
        height=snap.height, format=snap.format, chunk=i)))).load_snapshot_chunk.chunk
        for i in range(snap.chunks)]


async def _offer(c: AbciClient, snap: pb.Snapshot, app_hash: bytes) -> int:
    return (await c.call(pb.Request(offer_snapshot=pb.RequestOfferSnapshot(
        snapshot=snap, app_hash=app_hash)))).offer_snapshot.result


async def _apply(c: AbciClient, i: int, chunk: bytes) -> int:
    return (await c.call(pb.Request(apply_snapshot_chunk=pb.RequestApplySnapshotChunk(
        index=i, chunk=chunk)))).apply_snapshot_chunk.result


async def test_a_new_node_restores_a_snapshot_and_carries_on(pair: tuple) -> None:  # type: ignore[type-arg]
    src_c, dst_c, src, dst, tmp = pair
    listed = (await src_c.call(pb.Request(list_snapshots=pb.RequestListSnapshots()))
              ).list_snapshots.snapshots
    assert [s.height for s in listed] == [3, 6]  # every 3 heights, the last 2 kept
    snap = listed[-1]
    assert snap.chunks > 1  # 200-byte chunks: several
    chunks = await _chunks(src_c, snap)
    root = src.store.root_at(6)
    assert await _offer(dst_c, snap, root) == Offer.ACCEPT
    results = [await _apply(dst_c, i, c) for i, c in enumerate(chunks)]
    assert results == [Apply.ACCEPT] * len(chunks)
    info = (await dst_c.call(pb.Request(info=pb.RequestInfo()))).info
    assert (info.last_block_height, info.last_block_app_hash) == (6, root)
    # a restart before the next block reopens at the snapshot's height (no block to replay)
    reopened = LedgerApp(VersionedStore.open(tmp / "dst.db")).info()
    assert (reopened.last_block_height, reopened.last_block_app_hash) == (6, root)
    q = pb.Request(query=pb.RequestQuery(path="/bank/balance", data=text(ALICE).encode()))
    assert json.loads((await dst_c.call(q)).query.value) == \
        json.loads((await src_c.call(q)).query.value)
    # the next block gives the same app hash on both
    tx = client.send(ALICE, CHAIN, 6, text(PrivateKey.from_secret(b"r7")), 70)
    assert run_block(dst, [tx]).app_hash == run_block(src, [tx]).app_hash
    # and a node that has state refuses any further snapshot
    assert await _offer(dst_c, snap, root) == Offer.ABORT


async def test_forged_snapshots_are_refused_and_change_nothing(pair: tuple) -> None:  # type: ignore[type-arg]
    src_c, dst_c, src, dst, tmp = pair
    snap = (await src_c.call(pb.Request(list_snapshots=pb.RequestListSnapshots()))
            ).list_snapshots.snapshots[-1]
    chunks = await _chunks(src_c, snap)
    root = src.store.root_at(6)
    other = pb.Snapshot(height=snap.height, format=2, chunks=snap.chunks, hash=snap.hash,
                        metadata=snap.metadata)
    assert await _offer(dst_c, other, root) == Offer.REJECT_FORMAT
    bad_meta = pb.Snapshot(height=snap.height, format=1, chunks=snap.chunks, hash=snap.hash,
                           metadata=b"\xff")
    assert await _offer(dst_c, bad_meta, root) == Offer.REJECT
    # a tampered chunk fails its hash
    assert await _offer(dst_c, snap, root) == Offer.ACCEPT
    assert await _apply(dst_c, 0, chunks[0][:-1] + b"\x00") == Apply.REJECT_SNAPSHOT
    # honest chunks under an app hash that is not theirs: refused at the last chunk
    assert await _offer(dst_c, snap, b"\x01" * 32) == Offer.ACCEPT
    results = [await _apply(dst_c, i, c) for i, c in enumerate(chunks)]
    assert results[-1] == Apply.REJECT_SNAPSHOT
    assert dst.store.version is None and dst.info().last_block_height == 0
    # a chunk out of any restoration is refused
    assert await _apply(dst_c, 0, chunks[0]) == Apply.ABORT
    # missing chunks are served empty (CometBFT asks another peer)
    got = (await src_c.call(pb.Request(load_snapshot_chunk=pb.RequestLoadSnapshotChunk(
        height=5, format=1, chunk=0)))).load_snapshot_chunk.chunk
    assert got == b""


async def test_a_snapshot_that_cannot_be_written_does_not_stop_commit(tmp_path: Path) -> None:
    app = new_app(store=VersionedStore.open(tmp_path / "app.db"))
    (tmp_path / "snaps").write_text("a file where the snapshots' folder should be")
    server = AbciServer(app, StoreSnapshots(app, tmp_path / "snaps", interval=1))
    c = await AbciClient.connect(await server.start(f"unix://{tmp_path}/app.sock"))
    try:
        height = app.info().last_block_height + 1
        await c.call(pb.Request(finalize_block=pb.RequestFinalizeBlock(
            height=height, hash=b"\x07" * 32, proposer_address=b"\x01" * 20)))
        answer = await c.call(pb.Request(commit=pb.RequestCommit()))
        assert answer.WhichOneof("value") == "commit"  # not an exception: CometBFT would halt
        assert app.info().last_block_height == height
    finally:
        await c.close()
        await server.close()
