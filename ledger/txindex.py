"""The node's transaction index (sqlite, `data/tx_index.db`): every committed transaction by
hash with its height, position, bytes and FinalizeBlock result, the block-level results, and
the event attributes marked `index`, for CometBFT's `tx`, `tx_search` and `block_results`.

It is derived data written after each commit, one sqlite transaction per block; indexing a
height already indexed is a no-op, so a restart that hands a block again changes nothing.
Searches follow CometBFT v0.38: conditions on one event type must hold in the same event
(`transfer.sender='a' AND transfer.amount>5` is one transfer); `tx.height` and `tx.hash` are
always searchable."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .abci import ResponseFinalizeBlock
from .consensus import views

SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, num_txs INTEGER NOT NULL,
    results TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS txs (height INTEGER NOT NULL, idx INTEGER NOT NULL,
    hash BLOB NOT NULL, tx BLOB NOT NULL, code INTEGER NOT NULL, result TEXT NOT NULL,
    PRIMARY KEY (height, idx));
CREATE INDEX IF NOT EXISTS txs_hash ON txs (hash);
CREATE TABLE IF NOT EXISTS attrs (height INTEGER NOT NULL, idx INTEGER NOT NULL,
    seq INTEGER NOT NULL, ckey TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attrs_key ON attrs (ckey, value);
"""
ORDERS = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class Condition:
    """`key op value`; value is a str, a Decimal (a number) or None (EXISTS)."""

    key: str
    op: str  # = < <= > >= CONTAINS EXISTS
    value: str | Decimal | None = None


@dataclass(frozen=True)
class IndexedTx:
    hash: bytes
    height: int
    index: int
    tx: bytes
    result: dict[str, Any]  # the CometBFT `tx_result` view

    def to_json(self) -> dict[str, Any]:
        return {"hash": views.hexu(self.hash), "height": str(self.height), "index": self.index,
                "tx_result": self.result, "tx": views.b64(self.tx)}


def number(v: str) -> Decimal | None:
    try:
        d = Decimal(v)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def compare(have: Decimal | str, op: str, want: Decimal | str) -> bool:
    if isinstance(want, Decimal) != isinstance(have, Decimal):
        return False
    a, b = have, want
    return {"=": a == b, "<": a < b, "<=": a <= b, ">": a > b,  # type: ignore[operator]
            ">=": a >= b}[op]  # type: ignore[operator]


class TxIndex:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # derived data: a process crash is safe
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def last_height(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(height), 0) FROM blocks").fetchone()[0])

    def indexed(self, height: int) -> bool:
        return self.db.execute("SELECT 1 FROM blocks WHERE height = ?", (height,)).fetchone() \
            is not None

    def index_block(self, height: int, txs: Sequence[bytes], res: ResponseFinalizeBlock) -> bool:
        """Index a committed block's transactions and results; False if it already was."""
        if self.indexed(height):
            return False
        block = {"finalize_block_events": views.events_json(res.events),
                 "validator_updates": [{"pub_key": {"Sum": {"type": "tendermint.crypto."
                                       "PublicKey_Ed25519", "value": {"ed25519": views.b64(
                                           u.pub_key)}}}, "power": str(u.power)}
                                       for u in res.validator_updates],
                 "app_hash": views.b64(res.app_hash)}
        rows: list[tuple[Any, ...]] = []
        attrs: list[tuple[Any, ...]] = []
        for i, (tx, r) in enumerate(zip(txs, res.tx_results, strict=True)):
            rows.append((height, i, hashlib.sha256(tx).digest(), tx, r.code,
                         json.dumps(views.exec_tx_result_json(r), separators=(",", ":"))))
            for seq, ev in enumerate(r.events):
                attrs.extend((height, i, seq, f"{ev.type}.{a.key}", a.value)
                             for a in ev.attributes if a.index and ev.type and a.key)
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT INTO blocks VALUES (?, ?, ?)",
                            (height, len(txs), json.dumps(block, separators=(",", ":"))))
            self.db.executemany("INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?)", rows)
            self.db.executemany("INSERT INTO attrs VALUES (?, ?, ?, ?, ?)", attrs)
        return True

    def get(self, h: bytes) -> IndexedTx | None:
        """The tx with this hash; if committed twice, the successful then the latest one."""
        row = self.db.execute("SELECT hash, height, idx, tx, result FROM txs WHERE hash = ? "
                              "ORDER BY code = 0 DESC, height DESC LIMIT 1", (h,)).fetchone()
        return None if row is None else self._tx(row)

    def at(self, positions: Iterable[tuple[int, int]]) -> list[IndexedTx]:
        out = []
        for pos in positions:
            row = self.db.execute("SELECT hash, height, idx, tx, result FROM txs "
                                  "WHERE height = ? AND idx = ?", pos).fetchone()
            if row is not None:
                out.append(self._tx(row))
        return out

    @staticmethod
    def _tx(row: tuple[Any, ...]) -> IndexedTx:
        return IndexedTx(row[0], row[1], row[2], row[3], json.loads(row[4]))

    def block_results(self, height: int) -> dict[str, Any] | None:
        row = self.db.execute("SELECT results FROM blocks WHERE height = ?", (height,)).fetchone()
        if row is None:
            return None
        results = [json.loads(r) for (r,) in self.db.execute(
            "SELECT result FROM txs WHERE height = ? ORDER BY idx", (height,))]
        return {"height": str(height), "txs_results": results or None,
                **json.loads(row[0]), "consensus_param_updates": None}

    # ----------------------------------------------------------------- search

    def search(self, conds: Sequence[Condition], desc: bool = False) -> list[tuple[int, int]]:
        """Positions (height, index) of the txs matching every condition, in order."""
        found: set[tuple[int, int]] | None = None
        groups: dict[str, list[Condition]] = {}
        for c in conds:
            if c.key in ("tx.height", "tx.hash"):
                found = self._narrow(found, self._tx_field(c))
            else:
                groups.setdefault(c.key.rsplit(".", 1)[0], []).append(c)
        for group in groups.values():
            events: set[tuple[int, int, int]] | None = None
            for c in group:
                hits = self._attr(c)
                events = hits if events is None else events & hits
            found = self._narrow(found, {(h, i) for h, i, _ in events or ()})
        return sorted(found or (), reverse=desc)

    @staticmethod
    def _narrow(found: set[tuple[int, int]] | None,
                hits: set[tuple[int, int]]) -> set[tuple[int, int]]:
        return hits if found is None else found & hits

    def _tx_field(self, c: Condition) -> set[tuple[int, int]]:
        if c.key == "tx.hash":
            h = bytes.fromhex(str(c.value))
            rows = self.db.execute("SELECT height, idx FROM txs WHERE hash = ?", (h,))
            return {(a, b) for a, b in rows}
        if c.op == "EXISTS":
            return {(a, b) for a, b in self.db.execute("SELECT height, idx FROM txs")}
        want = Decimal(str(c.value))
        sql = {"=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[c.op]
        rows = self.db.execute(f"SELECT height, idx FROM txs WHERE height {sql} ?",
                               (int(want) if want == int(want) else float(want),))
        return {(a, b) for a, b in rows}

    def _attr(self, c: Condition) -> set[tuple[int, int, int]]:
        q = "SELECT height, idx, seq, value FROM attrs WHERE ckey = ?"
        if c.op == "=" and isinstance(c.value, str):
            rows = self.db.execute(q + " AND value = ?", (c.key, c.value))
            return {(h, i, s) for h, i, s, _ in rows}
        if c.op == "CONTAINS":
            rows = self.db.execute(q + " AND instr(value, ?) > 0", (c.key, c.value))
            return {(h, i, s) for h, i, s, _ in rows}
        rows = self.db.execute(q, (c.key,))
        if c.op == "EXISTS":
            return {(h, i, s) for h, i, s, _ in rows}
        out = set()
        for h, i, s, v in rows:
            n = number(v)
            if n is not None and c.value is not None and compare(n, c.op, c.value):
                out.add((h, i, s))
        return out
