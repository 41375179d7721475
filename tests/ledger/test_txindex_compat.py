"""The transaction index's compact storage reads back exactly as CometBFT's `tx_result`, and an
index written in the earlier layout (one row per attribute, results as full JSON) stays
readable and searchable, with new blocks added in the current one."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from ledger.abci import Event, EventAttribute, ExecTxResult, ResponseFinalizeBlock
from ledger.consensus import views
from ledger.rpc.query import parse
from ledger.txindex import TxIndex

RESULTS = (
    ExecTxResult(0, b"", "", 200, 150, (
        Event("transfer", (EventAttribute("sender", "com1a"), EventAttribute("amount", "5"),
                           EventAttribute("note", "ünïcode \"quoted\"", index=False))),
        Event("transfer", (EventAttribute("sender", "com1a"), EventAttribute("amount", "5"))),
        Event("", (EventAttribute("k", "v"),))), "bank"),
    ExecTxResult(7, b"\x00\x01data", "refused: no", 10, 10, (), "sdk"),
)


def test_stored_results_read_back_as_cometbft_shapes(tmp_path: Path) -> None:
    idx = TxIndex(tmp_path / "tx_index.db")
    assert idx.index_block(5, [b"x1", b"x2"], ResponseFinalizeBlock(RESULTS))
    for i, (tx, r) in enumerate(zip([b"x1", b"x2"], RESULTS, strict=True)):
        got = idx.get(hashlib.sha256(tx).digest())
        assert got is not None and (got.height, got.index, got.tx) == (5, i, tx)
        assert got.result == views.exec_tx_result_json(r)
    block = idx.block_results(5)
    assert block is not None
    assert block["txs_results"] == [views.exec_tx_result_json(r) for r in RESULTS]
    # The same term twice in one event, and in two events, are both found.
    assert idx.search(parse("transfer.sender='com1a' AND transfer.amount=5")) == [(5, 0)]
    assert idx.search(parse("transfer.note EXISTS")) == []  # not marked `index`
    assert idx.missing(4, 6) == [4, 6]
    idx.close()


def test_an_index_in_the_earlier_layout_is_still_searched(tmp_path: Path) -> None:
    path = tmp_path / "tx_index.db"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE blocks (height INTEGER PRIMARY KEY, num_txs INTEGER NOT NULL,
            results TEXT NOT NULL);
        CREATE TABLE txs (height INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
            tx BLOB NOT NULL, code INTEGER NOT NULL, result TEXT NOT NULL,
            PRIMARY KEY (height, idx));
        CREATE INDEX txs_hash ON txs (hash);
        CREATE TABLE attrs (height INTEGER NOT NULL, idx INTEGER NOT NULL,
            seq INTEGER NOT NULL, ckey TEXT NOT NULL, value TEXT NOT NULL);
        CREATE INDEX attrs_key ON attrs (ckey, value);""")
    old = views.exec_tx_result_json(RESULTS[0])
    with db:
        db.execute("INSERT INTO blocks VALUES (1, 1, ?)", (json.dumps(
            {"finalize_block_events": [], "validator_updates": [], "app_hash": ""}),))
        db.execute("INSERT INTO txs VALUES (1, 0, ?, ?, 0, ?)",
                   (hashlib.sha256(b"old").digest(), b"old", json.dumps(old)))
        db.executemany("INSERT INTO attrs VALUES (1, 0, ?, ?, ?)",
                       [(0, "transfer.sender", "com1a"), (0, "transfer.amount", "5")])
    db.close()
    idx = TxIndex(path)
    got = idx.get(hashlib.sha256(b"old").digest())
    assert got is not None and got.result == old
    idx.index_block(2, [b"new"], ResponseFinalizeBlock(RESULTS[:1]))
    assert idx.search(parse("transfer.sender='com1a'")) == [(1, 0), (2, 0)]
    assert idx.search(parse("transfer.amount>4")) == [(1, 0), (2, 0)]
    assert idx.search(parse("transfer.sender CONTAINS '1a' AND tx.height<2")) == [(1, 0)]
    assert idx.last_height() == 2
    idx.close()
