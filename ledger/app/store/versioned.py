"""VersionedStore: the application's state as one authenticated key-value store.

Each `commit(writes, version)` applies one block's writes and returns the new root (the app
hash). Past versions stay readable and provable until pruned by `retain`. Reads of values go to
the value rows, never the tree; proofs walk the tree from the version's root.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator, Mapping

from ...errors import InvalidError, LedgerError, Reason
from .backend import Backend, Batch, MemoryBackend
from .proof import EMPTY_ROOT, key_hash, value_hash
from .tree import Node, Update, decode_chunk, prefetch, prove

# Decoded chunks kept in memory (a few KB each at most); the top levels are rewritten every
# commit so they stay in; a commit reads what it misses one chunk level per query.
_CACHE_MAX = 1 << 15
# Latest rows kept in memory: blocks read and write the same accounts over and over.
_LATEST_MAX = 1 << 17
PRUNE_BATCH = 1  # exact retention by default; larger batches write fewer pages


class VersionNotFound(LedgerError, KeyError):
    """A read at a version that was pruned or never committed."""

    reason = Reason.NOT_FOUND

    def __str__(self) -> str:
        return str(self.args[0])


class VersionedStore:
    def __init__(self, backend: Backend, retain: int = 0, prune_batch: int = PRUNE_BATCH) -> None:
        if retain < 0:
            raise InvalidError(f"retain must be 0 (keep all) or a positive count, not {retain}")
        self._backend = backend
        self._retain = retain
        self._prune_batch = max(1, prune_batch)
        self._lock = threading.RLock()
        self._cache: dict[int, Node] = {}
        # key -> (version, value) of its latest row (value None: deleted; version -1: the key
        # was never written). Every commit updates the keys it writes, so an entry is never
        # stale: it answers a read at any kept version at or after its own.
        self._latest: dict[bytes, tuple[int, bytes | None]] = {}
        latest = backend.latest()
        self.version: int | None = None if latest is None else latest[0]
        self._root: Node | None = None if latest is None else latest[1]
        self._next_id = 1 if latest is None else latest[2]

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] | None, retain: int = 0, prune_batch: int = PRUNE_BATCH,
        durable: bool = True,
    ) -> VersionedStore:
        """A store at `path` (a SQLite file), or in memory when `path` is None. With `retain`
        N > 0 the last N versions stay readable; older ones are pruned once `prune_batch` of
        them have accumulated (so at most N + prune_batch - 1 are kept). `durable=False` skips
        the fsync of each commit (a store built in bulk, then closed)."""
        if path is None:
            return cls(MemoryBackend(), retain, prune_batch)
        from .sqlite import SqliteBackend

        return cls(SqliteBackend(path, durable), retain, prune_batch)

    @property
    def root(self) -> bytes:
        return EMPTY_ROOT if self._root is None else self._root[1]

    def root_at(self, version: int) -> bytes:
        ref = self._ref(version)
        return EMPTY_ROOT if ref is None else ref[1]

    def _ref(self, version: int | None) -> Node | None:
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

    def _node(self, chunk_id: int) -> Node:
        node = self._cache.get(chunk_id)
        if node is None:
            self._trim(1)
            node = self._cache[chunk_id] = decode_chunk(self._backend.node(chunk_id))
        return node

    def _nodes(self, ids: list[int]) -> dict[int, Node]:
        cache = self._cache
        found = {i: cache[i] for i in ids if i in cache}
        if len(found) < len(ids):
            fetched = self._backend.nodes([i for i in ids if i not in found])
            self._trim(len(fetched))
            for i, data in fetched.items():
                found[i] = cache[i] = decode_chunk(data)
        return found

    def _trim(self, room: int) -> None:
        """Make room in the node cache by dropping the oldest entries (insertion order)."""
        excess = len(self._cache) + room - _CACHE_MAX
        if excess > 0:
            for k in list(itertools.islice(self._cache, excess + _CACHE_MAX // 8)):
                del self._cache[k]

    def get(self, key: bytes, version: int | None = None) -> bytes | None:
        with self._lock:
            latest = version is None or version == self.version
            if not latest:
                self._ref(version)
            hit = self._latest.get(key)
            if hit is not None and (latest or hit[0] <= version):  # type: ignore[operator]
                return hit[1]
            row = self._backend.value_row(key, version)
            if latest:
                self._remember([(key, (-1, None) if row is None else row)])
        return None if row is None else row[1]

    def _remember(self, rows: list[tuple[bytes, tuple[int, bytes | None]]]) -> None:
        latest = self._latest
        excess = len(latest) + len(rows) - _LATEST_MAX
        if excess > 0:
            for k in list(itertools.islice(latest, excess + _LATEST_MAX // 8)):
                del latest[k]
        latest.update(rows)

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
            rows = sorted(writes.items())
            if not all(
                isinstance(k, bytes) and (x is None or isinstance(x, bytes)) for k, x in rows
            ):
                raise InvalidError("store keys and values must be bytes (None deletes)")
            changes = sorted((key_hash(k), None if x is None else value_hash(x)) for k, x in rows)
            prefetch(self._nodes, self._root, [c[0] for c in changes])
            update = Update(self._node, self._next_id)
            root = update.apply(self._root, changes)
            batch = Batch(
                version,
                root,
                update.new,
                update.stale,
                update.next_id,
                rows,
                self._retain,
                self._prune_batch,
            )
            self._backend.apply(batch)
            self._remember([(k, (version, x)) for k, x in rows])
            self._trim(len(update.decoded))
            self._cache.update(update.decoded)
            self.version, self._root, self._next_id = version, root, update.next_id
            return self.root

    def close(self) -> None:
        with self._lock:
            self._backend.close()
            self._cache.clear()
            self._latest.clear()
