"""A write-buffered view over a key-value reader, with branches for atomicity: a transaction
runs on a branch that is written into its parent only if it succeeds, else dropped.

Deleted keys are buffered as None. `items` merges the buffer with the base in key order, so
iteration never depends on the order writes were made."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from ..encoding import decode, encode


class Reader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...
    def items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]: ...


class DictReader:
    """A reader over a plain mapping (tests, genesis)."""

    def __init__(self, data: Mapping[bytes, bytes] | None = None) -> None:
        self.data = dict(data or {})

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        for k in sorted(k for k in self.data if k.startswith(prefix)):
            yield k, self.data[k]


class State:
    def __init__(self, base: Reader) -> None:
        self.base = base
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self.base.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = None

    def items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        mine = sorted((k, v) for k, v in self.writes.items() if k.startswith(prefix))
        base = self.base.items(prefix)
        b = next(base, None)
        i = 0
        while b is not None or i < len(mine):
            if b is not None and (i == len(mine) or b[0] < mine[i][0]):
                yield b
                b = next(base, None)
                continue
            k, v = mine[i]
            i += 1
            if b is not None and b[0] == k:
                b = next(base, None)
            if v is not None:
                yield k, v

    # ------------------------------------------------------------ branches

    def branch(self) -> State:
        return State(self)

    def write(self) -> None:
        """Merge this branch into the state it was made from."""
        assert isinstance(self.base, State), "only a branch can be written into its parent"
        self.base.writes.update(self.writes)
        self.writes = {}

    # ------------------------------------------------------- typed helpers

    def get_int(self, key: bytes) -> int:
        raw = self.get(key)
        if raw is None:
            return 0
        v = decode(raw)
        assert isinstance(v, int) and not isinstance(v, bool)
        return v

    def set_int(self, key: bytes, value: int) -> None:
        """Zero deletes the key, so an emptied balance leaves no trace in the tree."""
        if value == 0:
            self.delete(key)
        else:
            self.set(key, encode(value))
