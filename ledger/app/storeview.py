"""The store as the application sees it: the interface of `ledger.app.store.VersionedStore`
(a versioned Merkle key-value store), and a read-only view of one of its versions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol


class VersionedStore(Protocol):
    @property
    def version(self) -> int | None: ...
    @property
    def root(self) -> bytes: ...
    def root_at(self, version: int) -> bytes: ...
    def get(self, key: bytes, version: int | None = None) -> bytes | None: ...
    def items(self, prefix: bytes,
              version: int | None = None) -> Iterator[tuple[bytes, bytes]]: ...
    def prove(self, key: bytes, version: int | None = None) -> tuple[bytes | None, bytes]: ...
    def commit(self, writes: Mapping[bytes, bytes | None], version: int) -> bytes: ...


class View:
    """One version of the store, as a `state.Reader` (None: the empty state)."""

    def __init__(self, store: VersionedStore, version: int | None) -> None:
        self.store = store
        self.version = version

    def get(self, key: bytes) -> bytes | None:
        return None if self.version is None else self.store.get(key, self.version)

    def items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        if self.version is None:
            return iter(())
        return self.store.items(prefix, self.version)
