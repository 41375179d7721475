"""What a commit hands a backend, the backend contract, and the in-memory backend.

A backend persists immutable tree nodes, value rows (key, version) -> value or None (deleted),
one root per version, and the stale lists that pruning consumes. `apply` is all-or-nothing.
The in-memory backend is what the deterministic simulator uses: a simulated crash keeps the
object, and since a commit is applied in one step at its end, only uncommitted work is lost.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from .tree import Node


@dataclass
class Batch:
    version: int
    root: Node | None  # an external reference (2, hash, chunk id), None for the empty tree
    nodes: dict[int, bytes]  # new chunks by id
    stale: list[int]  # ids of chunks no longer reachable from `version` on
    next_id: int  # the first id the next commit may use
    # Rows written at `version` (None: deleted). Each hides the key's older rows from `version`
    # on, and a deletion's own row is needed by no version once every older row is gone.
    values: list[tuple[bytes, bytes | None]]
    retain: int  # versions to keep after this one is added (0: all)
    prune_batch: int  # prune only once `retain + prune_batch` versions are kept
    pruned_below: int | None = field(default=None)  # set by `apply`: the oldest kept version


class Backend(Protocol):
    def latest(self) -> tuple[int, Node | None, int] | None: ...
    def root(self, version: int) -> tuple[bool, Node | None]: ...
    def oldest(self) -> int | None: ...
    def node(self, node_id: int) -> bytes: ...
    def nodes(self, ids: list[int]) -> dict[int, bytes]: ...
    def value_row(self, key: bytes, version: int | None) -> tuple[int, bytes | None] | None: ...
    def items(self, prefix: bytes, version: int | None) -> list[tuple[bytes, bytes]]: ...
    def apply(self, batch: Batch) -> None: ...
    def close(self) -> None: ...


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with `prefix` (None: no bound)."""
    p = prefix.rstrip(b"\xff")
    return p[:-1] + bytes([p[-1] + 1]) if p else None


class MemoryBackend:
    def __init__(self) -> None:
        self._nodes: dict[int, bytes] = {}
        self._next_id = 1
        self._roots: dict[int, Node | None] = {}
        self._versions: list[int] = []
        self._rows: dict[bytes, list[tuple[int, bytes | None]]] = {}
        self._keys: list[bytes] = []  # sorted keys that have rows
        self._stale: deque[tuple[int, list[int], list[bytes]]] = deque()

    def latest(self) -> tuple[int, Node | None, int] | None:
        if not self._versions:
            return None
        v = self._versions[-1]
        return v, self._roots[v], self._next_id

    def root(self, version: int) -> tuple[bool, Node | None]:
        if version in self._roots:
            return True, self._roots[version]
        return False, None

    def oldest(self) -> int | None:
        return self._versions[0] if self._versions else None

    def node(self, node_id: int) -> bytes:
        return self._nodes[node_id]

    def nodes(self, ids: list[int]) -> dict[int, bytes]:
        return {i: self._nodes[i] for i in ids}

    def value_row(self, key: bytes, version: int | None) -> tuple[int, bytes | None] | None:
        rows = self._rows.get(key)
        if not rows:
            return None
        if version is None:
            return rows[-1]
        i = bisect.bisect_right(rows, version, key=lambda r: r[0])
        return rows[i - 1] if i else None

    def items(self, prefix: bytes, version: int | None) -> list[tuple[bytes, bytes]]:
        lo = bisect.bisect_left(self._keys, prefix)
        end = prefix_end(prefix)
        hi = len(self._keys) if end is None else bisect.bisect_left(self._keys, end)
        out = []
        for k in self._keys[lo:hi]:
            row = self.value_row(k, version)
            if row is not None and row[1] is not None:
                out.append((k, row[1]))
        return out

    def apply(self, batch: Batch) -> None:
        v = batch.version
        self._nodes.update(batch.nodes)
        self._next_id = batch.next_id
        for key, value in batch.values:
            rows = self._rows.get(key)
            if rows is None:
                rows = self._rows[key] = []
                bisect.insort(self._keys, key)
            rows.append((v, value))
        self._roots[v] = batch.root
        self._versions.append(v)
        self._stale.append((v, batch.stale, [k for k, _ in batch.values]))
        if batch.retain and len(self._versions) >= batch.retain + batch.prune_batch:
            self._prune(self._versions[-batch.retain])
        batch.pruned_below = self._versions[0]

    def _prune(self, oldest: int) -> None:
        while self._versions[0] < oldest:
            del self._roots[self._versions.pop(0)]
        while self._stale and self._stale[0][0] <= oldest:
            since, nodes, keys = self._stale.popleft()
            for node_id in nodes:
                del self._nodes[node_id]
            for key in keys:
                rows = self._rows[key]
                kept = [r for r in rows if r[0] > since or (r[0] == since and r[1] is not None)]
                if kept:
                    self._rows[key] = kept
                else:
                    del self._rows[key]
                    del self._keys[bisect.bisect_left(self._keys, key)]

    def node_count(self) -> int:
        return len(self._nodes)

    def row_count(self) -> int:
        return sum(len(r) for r in self._rows.values())

    def close(self) -> None:
        pass
