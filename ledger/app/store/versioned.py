"""VersionedStore: the application's state as one authenticated key-value store.

Each `commit(writes, version)` applies one block's writes and returns the new root (the app
hash). Past versions stay readable and provable until pruned by `retain`. Reads of values go to
the value rows, never the tree; proofs walk the tree from the version's root.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping

from ...errors import InvalidError, LedgerError, Reason
from .backend import Backend, Batch, MemoryBackend
from .proof import EMPTY_ROOT, key_hash, value_hash
from .tree import Node, Ref, Update, prove

_CACHE_MAX = 1 << 18  # recent nodes kept in memory (the top levels are rewritten every commit)


class VersionNotFound(LedgerError, KeyError):
    """A read at a version that was pruned or never committed."""

    reason = Reason.NOT_FOUND

    def __str__(self) -> str:
        return str(self.args[0])


class VersionedStore:
    def __init__(self, backend: Backend, retain: int = 0) -> None:
        if retain < 0:
            raise InvalidError(f"retain must be 0 (keep all) or a positive count, not {retain}")
        self._backend = backend
        self._retain = retain
        self._lock = threading.RLock()
        self._cache: dict[tuple[int, bytes], Node] = {}
        latest = backend.latest()
        self.version: int | None = None if latest is None else latest[0]
        self._root: Ref | None = None if latest is None else latest[1]

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None, retain: int = 0) -> VersionedStore:
        """A store at `path` (a SQLite file), or in memory when `path` is None."""
        if path is None:
            return cls(MemoryBackend(), retain)
        from .sqlite import SqliteBackend

        return cls(SqliteBackend(path), retain)

    @property
    def root(self) -> bytes:
        return EMPTY_ROOT if self._root is None else self._root[0]

    def root_at(self, version: int) -> bytes:
        ref = self._ref(version)
        return EMPTY_ROOT if ref is None else ref[0]

    def _ref(self, version: int | None) -> Ref | None:
        if version is None or version == self.version:
            return self._root
        found, ref = self._backend.root(version)
        if not found:
            self._missing(version)
        return ref

    def _missing(self, version: int) -> None:
        oldest = self._backend.oldest()
        if self._retain and oldest is not None and version < oldest:
            raise VersionNotFound(f"version {version} has been pruned (oldest kept: {oldest})")
        raise VersionNotFound(f"version {version} was never committed (latest: {self.version})")

    def _node(self, version: int, path: bytes) -> Node:
        node = self._cache.get((version, path))
        if node is None:
            node = self._backend.node(version, path)
            self._remember(version, path, node)
        return node

    def _remember(self, version: int, path: bytes, node: Node) -> None:
        if len(self._cache) >= _CACHE_MAX:  # drop the oldest quarter (dicts keep insertion order)
            for k in list(self._cache)[: _CACHE_MAX // 4]:
                del self._cache[k]
        self._cache[(version, path)] = node

    def get(self, key: bytes, version: int | None = None) -> bytes | None:
        with self._lock:
            if version is not None and version != self.version:
                self._ref(version)
            row = self._backend.value_row(key, version)
        return None if row is None else row[1]

    def items(self, prefix: bytes, version: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) pairs whose key starts with `prefix`, in key order."""
        with self._lock:
            if version is not None and version != self.version:
                self._ref(version)
            rows = self._backend.items(prefix, version)
        return iter(rows)

    def prove(self, key: bytes, version: int | None = None) -> tuple[bytes | None, bytes]:
        """The value of `key` at `version` (None: absent) and a proof of it against its root."""
        with self._lock:
            ref = self._ref(version)
            proof, present = prove(self._node, ref, key_hash(key))
            row = self._backend.value_row(key, version)
        value = None if row is None else row[1]
        if present != (value is not None):
            raise LedgerError(f"the store is inconsistent at key {key.hex()}", Reason.INVALID)
        return value, proof

    def commit(self, writes: Mapping[bytes, bytes | None], version: int) -> bytes:
        """Apply one block's writes (None deletes) as `version`; returns the new root."""
        with self._lock:
            if self.version is not None and version <= self.version:
                raise InvalidError(
                    f"version {version} must be greater than the last one ({self.version})"
                )
            changes: list[tuple[bytes, bytes | None]] = []
            rows: list[tuple[bytes, bytes | None]] = []
            hidden: list[tuple[bytes, int]] = []
            for key, value in sorted(writes.items()):
                if not isinstance(key, bytes) or not (value is None or isinstance(value, bytes)):
                    raise InvalidError("store keys and values must be bytes (None deletes)")
                prev = self._backend.value_row(key, None)
                if value is None and (prev is None or prev[1] is None):
                    continue  # deleting an absent key changes nothing
                if prev is not None:
                    hidden.append((key, prev[0]))
                if value is None:
                    hidden.append((key, version))  # a tombstone is needed by no later version
                rows.append((key, value))
                changes.append((key_hash(key), None if value is None else value_hash(value)))
            changes.sort(key=lambda c: c[0])
            update = Update(self._node, version)
            root = update.apply(self._root, changes)
            batch = Batch(version, root, update.new, update.stale, rows, hidden, self._retain)
            self._backend.apply(batch)
            for path, node in update.new.items():
                self._remember(version, path, node)
            self.version, self._root = version, root
            return self.root

    def close(self) -> None:
        with self._lock:
            self._backend.close()
            self._cache.clear()
