"""The node's transaction index (sqlite, `data/tx_index.db`): every committed transaction by
hash with its height, position, bytes and FinalizeBlock result, the block-level results, and
the event attributes marked `index`, for CometBFT's `tx`, `tx_search` and `block_results`.

It is derived data written after each commit, one sqlite transaction per block; indexing a
height already indexed is a no-op, so a restart that hands a block again changes nothing.
Searches follow CometBFT v0.38: conditions on one event type must hold in the same event
(`transfer.sender='a' AND transfer.amount>5` is one transfer); `tx.height` and `tx.hash` are
always searchable.

Written for a validator's budget (a block of transfers carries some twenty indexed attributes
per transaction): each distinct `type.key = value` is a small integer term, and a block adds
one row per term it holds (the term, the height, and the packed positions where it occurs),
so a block of n transactions writes about n * 7 short rows, not n * 20 long ones; a result
is stored as compact JSON and rendered in CometBFT's shape when read."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .abci import ExecTxResult, ResponseFinalizeBlock
from .consensus import views

SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, num_txs INTEGER NOT NULL,
    results TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS txs (height INTEGER NOT NULL, idx INTEGER NOT NULL,
    hash BLOB NOT NULL, tx BLOB NOT NULL, code INTEGER NOT NULL, result TEXT NOT NULL,
    PRIMARY KEY (height, idx));
CREATE INDEX IF NOT EXISTS txs_hash ON txs (hash);
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, ckey TEXT NOT NULL,
    value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS terms_key ON terms (ckey, value);
CREATE TABLE IF NOT EXISTS postings (term INTEGER NOT NULL, height INTEGER NOT NULL,
    positions BLOB NOT NULL, PRIMARY KEY (term, height)) WITHOUT ROWID;
"""
# Where a term occurs in a block: (tx index << 32 | event index), 8 bytes little-endian each.
_POS = "Q"
ORDERS = ("<", "<=", ">", ">=")
TERMS_CACHED = 100_000  # per generation: the recent terms (accounts, amounts) stay in memory
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


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


def result_json(stored: str) -> dict[str, Any]:
    """A stored result as CometBFT's `tx_result` (`views.exec_tx_result_json`)."""
    v = json.loads(stored)
    if isinstance(v, dict):
        return v  # written before results were compact
    code, data, log, wanted, used, codespace, events = v
    return {"code": code, "data": data, "log": log, "info": "", "gas_wanted": str(wanted),
            "gas_used": str(used),
            "events": [{"type": t, "attributes": [{"key": k, "value": val, "index": i}
                                                  for k, val, i in attrs]}
                       for t, attrs in events],
            "codespace": codespace}


class TxIndex:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # derived data: a process crash is safe
        self.db.executescript(SCHEMA)
        # An index written before terms existed keeps its rows and is searched as well.
        self._legacy = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'attrs'").fetchone() is not None
        self._terms: dict[tuple[str, str, str], int] = {}  # (type, key, value) -> term
        self._older: dict[tuple[str, str, str], int] = {}  # the generation before

    def close(self) -> None:
        self.db.close()

    def last_height(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(height), 0) FROM blocks").fetchone()[0])

    def indexed(self, height: int) -> bool:
        return self.db.execute("SELECT 1 FROM blocks WHERE height = ?", (height,)).fetchone() \
            is not None

    def missing(self, low: int, high: int) -> list[int]:
        """The heights in [low, high] not indexed."""
        have = {h for (h,) in self.db.execute(
            "SELECT height FROM blocks WHERE height BETWEEN ? AND ?", (low, high))}
        return [h for h in range(low, high + 1) if h not in have]

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
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            first = int(self.db.execute(
                "SELECT COALESCE(MAX(id), 0) FROM terms").fetchone()[0]) + 1
            rows, found, new = self._rows(height, txs, res.tx_results, first)
            self.db.execute("INSERT INTO blocks VALUES (?, ?, ?)",
                            (height, len(txs), json.dumps(block, separators=(",", ":"))))
            self.db.executemany("INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?)", rows)
            self.db.executemany("INSERT INTO terms VALUES (?, ?, ?)", new)
            self.db.executemany("INSERT INTO postings VALUES (?, ?, ?)",
                                [(t, height, _pack(p)) for t, p in sorted(found.items())])
        return True

    def _rows(self, height: int, txs: Sequence[bytes], results: Sequence[ExecTxResult],
              next_term: int) -> tuple[list[tuple[Any, ...]], dict[int, list[int]],
                                       list[tuple[int, str, str]]]:
        """The txs' rows, where each term occurs, and the terms seen for the first time."""
        rows: list[tuple[Any, ...]] = []
        found: dict[int, list[int]] = {}
        new: list[tuple[int, str, str]] = []
        recent, older = self._terms, self._older
        sha256 = hashlib.sha256
        for i, (tx, r) in enumerate(zip(txs, results, strict=True)):
            events = []
            for seq, ev in enumerate(r.events):
                typ = ev.type
                attrs = [(a.key, a.value, a.index) for a in ev.attributes]
                events.append((typ, attrs))
                if not typ:
                    continue
                pos = i << 32 | seq
                for key, value, indexed in attrs:
                    if not (indexed and key):
                        continue
                    k = (typ, key, value)
                    t = recent.get(k)
                    if t is None:
                        t = older.get(k)
                        if t is None:  # new, or forgotten: a second id is harmless
                            t, next_term = next_term, next_term + 1
                            new.append((t, f"{typ}.{key}", value))
                        if len(recent) >= TERMS_CACHED:
                            older, recent = recent, {}
                            self._older, self._terms = older, recent
                        recent[k] = t
                    where = found.get(t)
                    if where is None:
                        found[t] = [pos]
                    else:
                        where.append(pos)
            data = views.b64(r.data) if r.data else None
            rows.append((height, i, sha256(tx).digest(), tx, r.code, _compact(
                (r.code, data, r.log, r.gas_wanted, r.gas_used, r.codespace, events))))
        return rows, found, new

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
        return IndexedTx(row[0], row[1], row[2], row[3], result_json(row[4]))

    def block_results(self, height: int) -> dict[str, Any] | None:
        row = self.db.execute("SELECT results FROM blocks WHERE height = ?", (height,)).fetchone()
        if row is None:
            return None
        results = [result_json(r) for (r,) in self.db.execute(
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
        """(height, tx index, event index) of the events where the condition holds."""
        args: tuple[Any, ...]
        if c.op == "=" and isinstance(c.value, str):
            where, args = " AND t.value = ?", (c.key, c.value)
        elif c.op == "CONTAINS":
            where, args = " AND instr(t.value, ?) > 0", (c.key, c.value)
        else:
            where, args = "", (c.key,)
        rows = self.db.execute("SELECT t.value, p.height, p.positions FROM terms t JOIN "
                               "postings p ON p.term = t.id WHERE t.ckey = ?" + where, args)
        hits = [(v, h, x >> 32, x & 0xFFFFFFFF) for v, h, blob in rows for x in _unpack(blob)]
        if self._legacy:
            hits += self.db.execute("SELECT value, height, idx, seq FROM attrs WHERE ckey = ?"
                                    + where.replace("t.value", "value"), args).fetchall()
        if c.op in ("=", "CONTAINS", "EXISTS") and (c.op != "=" or isinstance(c.value, str)):
            return {(h, i, s) for _, h, i, s in hits}
        out = set()
        for v, h, i, s in hits:
            n = number(v)
            if n is not None and c.value is not None and compare(n, c.op, c.value):
                out.add((h, i, s))
        return out


def _pack(positions: list[int]) -> bytes:
    a = array(_POS, positions)
    if sys.byteorder == "big":
        a.byteswap()
    return a.tobytes()


def _unpack(blob: bytes) -> array[int]:
    a = array(_POS)
    a.frombytes(blob)
    if sys.byteorder == "big":
        a.byteswap()
    return a
