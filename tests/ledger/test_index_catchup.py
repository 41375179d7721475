"""A crash between saving a block and indexing it: at the next start the node indexes what its
block store holds beyond the transaction index (real node, real sqlite files, real RPC)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from ledger.node import Node
from ledger.rpc import RpcClient
from ledger.txindex import TxIndex
from tests.ledger.homes import single_validator


def forget_from(home: Path, height: int) -> None:
    """The index as a crash before its writes of `height` and later would have left it."""
    db = sqlite3.connect(home / "data" / "tx_index.db")
    with db:
        for table in ("blocks", "txs", "postings"):
            db.execute(f"DELETE FROM {table} WHERE height >= ?", (height,))
    db.close()


def index_height(home: Path) -> int:
    idx = TxIndex(home / "data" / "tx_index.db")
    try:
        return idx.last_height()
    finally:
        idx.close()


async def test_an_index_behind_the_block_store_is_caught_up_at_start(tmp_path: Path) -> None:
    home = single_validator(tmp_path)  # kvstore: every stored block is replayed at start
    node = Node(home)
    await node.start()
    try:
        async with RpcClient(node.rpc.url, timeout=10) as c:
            first = (await c.broadcast_tx_commit(b"a=1"))["commit"]["height"]
            second = (await c.broadcast_tx_commit(b"b=2"))["commit"]["height"]
    finally:
        await node.stop()
    top = node.blocks.height()
    forget_from(home, first)
    assert index_height(home) == first - 1
    node = Node(home)
    await node.start()
    try:
        assert index_height(home) >= top  # caught up before the node serves anything
        async with RpcClient(node.rpc.url, timeout=10) as c:
            got = await c.tx(hashlib.sha256(b"b=2").digest())
            assert got is not None and got["height"] == second
            total, _ = await c.tx_search(f"tx.height>={first} AND tx.height<={second}")
            assert total == 2
            assert (await c.block_results(first))["height"] == str(first)
    finally:
        await node.stop()


async def test_the_ledger_apps_last_block_is_indexed_again_after_a_crash(tmp_path: Path) -> None:
    home = single_validator(tmp_path, app="ledger")  # persistent: replays its last block
    node = Node(home)
    await node.start()
    try:
        async with RpcClient(node.rpc.url, timeout=10) as c:
            while (await c.status())["height"] < 3:
                await node.api.indexed(node.replica.height + 1, 5)
    finally:
        await node.stop()
    top = node.blocks.height()
    forget_from(home, top)
    assert index_height(home) == top - 1
    node = Node(home)
    await node.start()
    try:
        idx = TxIndex(home / "data" / "tx_index.db")
        assert idx.indexed(top) and idx.missing(1, top) == []
        idx.close()
    finally:
        await node.stop()
