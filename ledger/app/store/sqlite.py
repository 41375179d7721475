"""The SQLite backend of the versioned store (stdlib sqlite3, WAL, synchronous=FULL unless
built in bulk with durable=False).

Tables: `roots` one row per kept version (with the next free chunk id); `nodes` id -> encoded
tree chunk; `rows` (key, version) -> value or NULL (deleted); `stale` one row per version: the ids
of the nodes and the keys whose older rows stop being reachable at that version. A commit, pruning included, is one
transaction. Opening reads one `roots` row: no replay, no scan.
"""

from __future__ import annotations

import os
import sqlite3
import struct

from .backend import Batch, prefix_end
from .tree import Node

_CHUNK = 500  # ids per SELECT ... IN (...)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS roots (version INTEGER PRIMARY KEY, hash BLOB,"
    " chunk INTEGER NOT NULL, next_id INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rows (key BLOB NOT NULL, version INTEGER NOT NULL, value BLOB,"
    " PRIMARY KEY (key, version)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS stale (since INTEGER PRIMARY KEY, nodes BLOB, keys BLOB)",
)


def _pack(items: list[bytes]) -> bytes:
    return b"".join(len(x).to_bytes(4, "big") + x for x in items)


def _unpack(blob: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(blob):
        n = int.from_bytes(blob[i : i + 4], "big")
        out.append(blob[i + 4 : i + 4 + n])
        i += 4 + n
    return out


class _Ids:
    """Node ids packed as 8-byte big-endian integers."""

    @staticmethod
    def pack(ids: list[int]) -> bytes:
        return struct.pack(f">{len(ids)}Q", *ids)

    @staticmethod
    def unpack(blob: bytes) -> list[int]:
        return list(struct.unpack(f">{len(blob) // 8}Q", blob))


_ids = _Ids()


def _ref(hash_: bytes | None, chunk: int) -> Node | None:
    return None if hash_ is None else (2, hash_, chunk)


class SqliteBackend:
    def __init__(self, path: str | os.PathLike[str], durable: bool = True) -> None:
        self._db = sqlite3.connect(os.fspath(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # Not durable: no fsync per commit, for stores built in bulk and closed before use.
        self._db.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=OFF")
        for stmt in _SCHEMA:
            self._db.execute(stmt)

    def latest(self) -> tuple[int, Node | None, int] | None:
        row = self._db.execute(
            "SELECT version, hash, chunk, next_id FROM roots ORDER BY version DESC LIMIT 1"
        ).fetchone()
        return None if row is None else (row[0], _ref(row[1], row[2]), row[3])

    def root(self, version: int) -> tuple[bool, Node | None]:
        row = self._db.execute(
            "SELECT hash, chunk FROM roots WHERE version = ?", (version,)
        ).fetchone()
        return (False, None) if row is None else (True, _ref(row[0], row[1]))

    def oldest(self) -> int | None:
        row = self._db.execute("SELECT version FROM roots ORDER BY version LIMIT 1").fetchone()
        return None if row is None else int(row[0])

    def node(self, node_id: int) -> bytes:
        row = self._db.execute("SELECT data FROM nodes WHERE id = ?", (node_id,)).fetchone()
        if row is None:
            raise KeyError(f"tree chunk {node_id} is missing")
        return bytes(row[0])

    def nodes(self, ids: list[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT id, data FROM nodes WHERE id IN ({marks})", chunk)
            out.update(rows)
        if len(out) != len(set(ids)):
            raise KeyError(f"{len(set(ids)) - len(out)} tree chunks are missing")
        return out

    def value_row(self, key: bytes, version: int | None) -> tuple[int, bytes | None] | None:
        if version is None:
            sql, args = (
                "SELECT version, value FROM rows WHERE key = ? ORDER BY version DESC",
                (key,),
            )
        else:
            sql = "SELECT version, value FROM rows WHERE key = ? AND version <= ?"
            sql, args = sql + " ORDER BY version DESC", (key, version)  # type: ignore[assignment]
        row = self._db.execute(sql + " LIMIT 1", args).fetchone()
        return None if row is None else (row[0], row[1])

    def items(self, prefix: bytes, version: int | None) -> list[tuple[bytes, bytes]]:
        end = prefix_end(prefix)
        cond, args = "key >= ?", [prefix]
        if end is not None:
            cond, args = cond + " AND key < ?", [prefix, end]
        at = "" if version is None else " AND version <= ?"
        # For each key in range, its latest row at or below `version`.
        sql = (
            f"SELECT key, value FROM rows AS r WHERE {cond} AND version ="
            f" (SELECT MAX(version) FROM rows WHERE key = r.key{at}) ORDER BY key"
        )
        rows = self._db.execute(sql, [*args] + ([] if version is None else [version]))
        return [(k, v) for k, v in rows if v is not None]

    def apply(self, batch: Batch) -> None:
        db, v = self._db, batch.version
        root = batch.root
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO roots VALUES (?, ?, ?, ?)",
                (v, None, -1, batch.next_id)
                if root is None
                else (v, root[1], root[2], batch.next_id),
            )
            db.executemany("INSERT INTO nodes VALUES (?, ?)", batch.nodes.items())
            db.executemany(
                "INSERT INTO rows VALUES (?, ?, ?)", [(k, v, x) for k, x in batch.values]
            )
            db.execute(
                "INSERT INTO stale VALUES (?, ?, ?)",
                (v, _ids.pack(batch.stale), _pack([k for k, _ in batch.values])),
            )
            batch.pruned_below = self._prune(batch.retain, batch.prune_batch)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _prune(self, retain: int, batch: int) -> int | None:
        """Drop versions below the `retain` most recent and what only they could reach, once
        there are `batch` such versions: deletes hit pages all over the tables, so fewer,
        larger prunes write far fewer pages."""
        if not retain:
            return None
        db = self._db
        sql = "SELECT version FROM roots ORDER BY version DESC LIMIT 1 OFFSET ?"
        if db.execute(sql, (retain + batch - 1,)).fetchone() is None:
            return None
        oldest = int(db.execute(sql, (retain - 1,)).fetchone()[0])
        db.execute("DELETE FROM roots WHERE version < ?", (oldest,))
        stale = db.execute("SELECT since, nodes, keys FROM stale WHERE since <= ?", (oldest,))
        dead: list[int] = []
        hidden: list[tuple[bytes, int, int]] = []
        for since, ids, keys in stale.fetchall():
            dead.extend(_ids.unpack(ids))
            hidden.extend((k, since, since) for k in _unpack(keys))
        dead.sort()  # in page order
        hidden.sort()
        db.executemany("DELETE FROM nodes WHERE id = ?", [(i,) for i in dead])
        db.executemany(
            "DELETE FROM rows WHERE key = ? AND (version < ? OR (version = ? AND value IS NULL))",
            hidden,
        )
        db.execute("DELETE FROM stale WHERE since <= ?", (oldest,))
        return oldest

    def count(self, table: str) -> int:
        """Rows in one of this store's tables (audits and tests)."""
        if table not in ("roots", "nodes", "rows", "stale"):
            raise ValueError(f"no table {table!r} in the store")
        return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def close(self) -> None:
        self._db.close()
