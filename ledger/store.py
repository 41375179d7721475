"""Block store and state store on stdlib sqlite3, generic over bytes.

``BlockStore`` keeps, per height, the encoded block, its header hash and the commit that
finalized it, written in one transaction so a crash never leaves a block without its hash or
commit. Heights are contiguous from the first saved one (no pruning). Saving the same block
again (same height, same hash) is a no-op so that crash recovery can replay ``save_block``.

``StateStore`` is a small durable key -> bytes map for snapshots of the application and
consensus state (core picks the keys, e.g. ``"app/state"``, ``"consensus/last"``);
``put_many`` writes several keys atomically.

Both use WAL journal mode with ``synchronous=FULL``: a committed transaction survives a power
loss, which "persist, then act" relies on. One block is written per height, so fsync cost is
negligible next to consensus round trips (``durable=False`` skips it, for folders that a
crash would throw away anyway, as ``ledger.fastforward`` grows). Calls are synchronous and short; a lock makes a
store safe to use from ``asyncio.to_thread`` as well as from the event loop.

Mapping onto ``ledger.consensus.ports.BlockStore``: ``save(block, seen_commit)`` is
``save_block(block.height, block.hash(), encode(block), encode(seen_commit))``; ``block(h)`` /
``commit(h)`` decode ``load_block(h)`` / ``load_commit(h)``; ``height()`` is ``height``.
``ports.StateStore`` keeps one encoded ``ChainState`` and validator sets by height: keys such as
``"state"`` and ``"validators/%020d" % h`` written together with ``put_many``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.errors import InvalidError


class StoreError(InvalidError):
    """A write would break the store's invariants (gap, conflicting block)."""


@dataclass(frozen=True)
class StoredBlock:
    height: int
    hash: bytes
    block: bytes
    commit: bytes


def _connect(path: str | os.PathLike[str], durable: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(os.fspath(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=OFF")
    return conn


class BlockStore:
    def __init__(self, path: str | os.PathLike[str], durable: bool = True) -> None:
        self._db = _connect(path, durable)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS blocks ("
            " height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
            " block BLOB NOT NULL, commit_ BLOB NOT NULL)"
        )
        # Hashes of the evidence blocks hold: a restart reads these, never the whole chain.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS evidence (hash BLOB PRIMARY KEY, height INTEGER NOT NULL)"
        )
        row = self._db.execute("SELECT MIN(height), MAX(height) FROM blocks").fetchone()
        self._base: int = row[0] or 0
        self._height: int = row[1] or 0

    @property
    def height(self) -> int:
        """Latest stored height (0 when empty)."""
        return self._height

    @property
    def base(self) -> int:
        """Lowest stored height (0 when empty)."""
        return self._base

    def save_block(self, height: int, block_hash: bytes, block: bytes, commit: bytes,
                   evidence: Iterable[bytes] = ()) -> None:
        if height < 1:
            raise StoreError(f"invalid height {height}")
        with self._lock:
            if self._height and height <= self._height:
                existing = self._load_hash(height)
                if existing == block_hash:
                    return  # idempotent replay after a crash
                if existing is None:
                    raise StoreError(f"height {height} is below the store base {self._base}")
                raise StoreError(f"height {height} already holds a different block")
            if self._height and height != self._height + 1:
                raise StoreError(f"height {height} leaves a gap after {self._height}")
            try:
                with self._db:
                    self._db.execute("BEGIN IMMEDIATE")
                    self._db.execute(
                        "INSERT INTO blocks (height, hash, block, commit_) VALUES (?, ?, ?, ?)",
                        (height, bytes(block_hash), bytes(block), bytes(commit)),
                    )
                    self._db.executemany(
                        "INSERT OR IGNORE INTO evidence (hash, height) VALUES (?, ?)",
                        [(bytes(e), height) for e in evidence],
                    )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"block hash {block_hash.hex()} already stored") from exc
            self._height = height
            if not self._base:
                self._base = height

    def save_commit(self, height: int, commit: bytes) -> None:
        """Replace the stored commit of ``height`` (e.g. by the canonical one of block h+1)."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            cur = self._db.execute(
                "UPDATE blocks SET commit_ = ? WHERE height = ?", (bytes(commit), height)
            )
            if cur.rowcount != 1:
                raise StoreError(f"no block at height {height}")

    def _load_hash(self, height: int) -> bytes | None:
        row = self._db.execute("SELECT hash FROM blocks WHERE height = ?", (height,)).fetchone()
        return None if row is None else bytes(row[0])

    def evidence_since(self, height: int) -> list[bytes]:
        """Hashes of the evidence committed in blocks at `height` or above."""
        with self._lock:
            rows = self._db.execute(
                "SELECT hash FROM evidence WHERE height >= ?", (height,)
            ).fetchall()
        return [bytes(r[0]) for r in rows]

    def load_hash(self, height: int) -> bytes | None:
        with self._lock:
            return self._load_hash(height)

    def load(self, height: int) -> StoredBlock | None:
        with self._lock:
            row = self._db.execute(
                "SELECT height, hash, block, commit_ FROM blocks WHERE height = ?", (height,)
            ).fetchone()
        return None if row is None else StoredBlock(row[0], row[1], row[2], row[3])

    def load_by_hash(self, block_hash: bytes) -> StoredBlock | None:
        with self._lock:
            row = self._db.execute(
                "SELECT height, hash, block, commit_ FROM blocks WHERE hash = ?",
                (bytes(block_hash),),
            ).fetchone()
        return None if row is None else StoredBlock(row[0], row[1], row[2], row[3])

    def load_block(self, height: int) -> bytes | None:
        found = self.load(height)
        return None if found is None else found.block

    def load_commit(self, height: int) -> bytes | None:
        found = self.load(height)
        return None if found is None else found.commit

    def close(self) -> None:
        with self._lock:
            self._db.close()


class StateStore:
    def __init__(self, path: str | os.PathLike[str], durable: bool = True) -> None:
        self._db = _connect(path, durable)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)"
        )

    def get(self, key: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def put(self, key: str, value: bytes) -> None:
        self.put_many([(key, value)])

    def put_many(self, items: Iterable[tuple[str, bytes]], delete: Iterable[str] = ()) -> None:
        """Write (and delete) several keys in one durable transaction."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO kv (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(k, bytes(v)) for k, v in items],
            )
            self._db.executemany("DELETE FROM kv WHERE key = ?", [(k,) for k in delete])

    def delete(self, key: str) -> None:
        self.put_many((), delete=[key])

    def keys(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM kv WHERE substr(key, 1, ?) = ? ORDER BY key",
                (len(prefix), prefix),
            ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
