"""The SQLite backend of the versioned store (stdlib sqlite3, WAL, synchronous=FULL).

Tables (all WITHOUT ROWID, keyed for the lookups made): `roots` one row per kept version;
`nodes` (version, path) -> encoded node; `rows` (key, version) -> value or NULL (deleted);
`stale_nodes` / `stale_rows` list what stops being reachable at version `since`. A commit,
pruning included, is one transaction. Opening reads one `roots` row: no replay, no scan.
"""

from __future__ import annotations

import os
import sqlite3
import struct

from .backend import Batch, prefix_end
from .tree import Node, Ref

_INNER = struct.Struct(">32s32sQQB")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS roots (version INTEGER PRIMARY KEY, hash BLOB,"
    " node_version INTEGER NOT NULL, is_leaf INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS nodes (version INTEGER NOT NULL, path BLOB NOT NULL,"
    " data BLOB NOT NULL, PRIMARY KEY (version, path)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS rows (key BLOB NOT NULL, version INTEGER NOT NULL, value BLOB,"
    " PRIMARY KEY (key, version)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS stale_nodes (since INTEGER NOT NULL, version INTEGER NOT NULL,"
    " path BLOB NOT NULL, PRIMARY KEY (since, version, path)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS stale_rows (since INTEGER NOT NULL, key BLOB NOT NULL,"
    " version INTEGER NOT NULL, PRIMARY KEY (since, key, version)) WITHOUT ROWID",
)


def encode_node(node: Node) -> bytes:
    if len(node) == 2:
        return b"\x00" + node[0] + node[1]  # type: ignore[operator]
    lh, lv, ll, rh, rv, rl = node  # type: ignore[misc]
    return b"\x01" + _INNER.pack(lh, rh, lv, rv, ll | (rl << 1))


def decode_node(data: bytes) -> Node:
    if data[0] == 0:
        return (data[1:33], data[33:65])
    lh, rh, lv, rv, flags = _INNER.unpack_from(data, 1)
    return (lh, lv, bool(flags & 1), rh, rv, bool(flags & 2))


def _ref(row: tuple[bytes, int, int]) -> Ref | None:
    return None if row[1] < 0 else (row[0], row[1], bool(row[2]))


class SqliteBackend:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._db = sqlite3.connect(os.fspath(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        for stmt in _SCHEMA:
            self._db.execute(stmt)

    def latest(self) -> tuple[int, Ref | None] | None:
        row = self._db.execute(
            "SELECT version, hash, node_version, is_leaf FROM roots ORDER BY version DESC LIMIT 1"
        ).fetchone()
        return None if row is None else (row[0], _ref(row[1:]))

    def root(self, version: int) -> tuple[bool, Ref | None]:
        row = self._db.execute(
            "SELECT hash, node_version, is_leaf FROM roots WHERE version = ?", (version,)
        ).fetchone()
        return (False, None) if row is None else (True, _ref(row))

    def oldest(self) -> int | None:
        row = self._db.execute("SELECT version FROM roots ORDER BY version LIMIT 1").fetchone()
        return None if row is None else int(row[0])

    def node(self, version: int, path: bytes) -> Node:
        row = self._db.execute(
            "SELECT data FROM nodes WHERE version = ? AND path = ?", (version, path)
        ).fetchone()
        if row is None:
            raise KeyError(f"tree node {path.hex()} of version {version} is missing")
        return decode_node(row[0])

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
                (v, None, -1, 0) if root is None else (v, root[0], root[1], int(root[2])),
            )
            db.executemany(
                "INSERT INTO nodes VALUES (?, ?, ?)",
                [(v, p, encode_node(n)) for p, n in batch.nodes.items()],
            )
            db.executemany(
                "INSERT INTO rows VALUES (?, ?, ?)", [(k, v, x) for k, x in batch.values]
            )
            db.executemany(
                "INSERT INTO stale_nodes VALUES (?, ?, ?)", [(v, *s) for s in batch.stale]
            )
            db.executemany(
                "INSERT INTO stale_rows VALUES (?, ?, ?)", [(v, *s) for s in batch.value_stale]
            )
            batch.pruned_below = self._prune(batch.retain)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _prune(self, retain: int) -> int | None:
        """Drop versions below the `retain` most recent and what only they could reach."""
        if not retain:
            return None
        row = self._db.execute(
            "SELECT version FROM roots ORDER BY version DESC LIMIT 1 OFFSET ?", (retain - 1,)
        ).fetchone()
        if row is None:
            return None
        oldest = int(row[0])
        db = self._db
        db.execute("DELETE FROM roots WHERE version < ?", (oldest,))
        db.execute(
            "DELETE FROM nodes WHERE (version, path) IN"
            " (SELECT version, path FROM stale_nodes WHERE since <= ?)",
            (oldest,),
        )
        db.execute("DELETE FROM stale_nodes WHERE since <= ?", (oldest,))
        db.execute(
            "DELETE FROM rows WHERE (key, version) IN"
            " (SELECT key, version FROM stale_rows WHERE since <= ?)",
            (oldest,),
        )
        db.execute("DELETE FROM stale_rows WHERE since <= ?", (oldest,))
        return oldest

    def count(self, table: str) -> int:
        """Rows in one of this store's tables (audits and tests)."""
        if table not in ("roots", "nodes", "rows", "stale_nodes", "stale_rows"):
            raise ValueError(f"no table {table!r} in the store")
        return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def close(self) -> None:
        self._db.close()
