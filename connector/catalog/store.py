"""The catalog store contract and its in-memory implementation.

Datasets are listed in `id` order, so that a page is stable while others are added later
(ids of imported datasets are hashes of their IRI, of published ones uuids).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Protocol

from connector.catalog.model import Access, Dataset


class Put(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class CatalogStore(Protocol):
    async def put(self, dataset: Dataset) -> Put:
        """Insert or replace by id; UNCHANGED (and no write) if the content is the same."""

    async def put_many(self, datasets: Iterable[Dataset]) -> list[Put]:
        """Like put for each, in one transaction (imports)."""

    async def get(self, dataset_id: str) -> Dataset | None: ...

    async def get_by_iri(self, iri: str) -> Dataset | None: ...

    async def lookup(self, key: str) -> Dataset | None:
        """By IRI (the DSP @id), else by local id."""

    async def delete(self, dataset_id: str) -> bool: ...

    async def list(
        self, levels: frozenset[Access] = frozenset(Access), limit: int = 100, offset: int = 0
    ) -> list[Dataset]: ...

    async def count(self, levels: frozenset[Access] = frozenset(Access)) -> int: ...

    async def hashes(self, levels: frozenset[Access] = frozenset(Access), limit: int | None = None,
                     offset: int = 0, iris: Collection[str] | None = None) -> list[tuple[str, str]]:
        """(iri, content fingerprint) of the datasets at those levels, in id order (a window of
        them with LIMIT and OFFSET; only those among IRIS when given)."""

    async def by_iris(self, levels: frozenset[Access], iris: Collection[str]) -> list[Dataset]:
        """The datasets at those levels among IRIS (others silently left out), in id order;
        one query, whatever the number of IRIs."""


class InMemoryCatalogStore:
    def __init__(self) -> None:
        self._items: dict[str, Dataset] = {}
        self._by_iri: dict[str, str] = {}

    async def put(self, dataset: Dataset) -> Put:
        old = self._items.get(dataset.id)
        if old is None and dataset.iri in self._by_iri:
            raise ValueError(f"another dataset has the IRI {dataset.iri}")
        if old is not None and old.fingerprint() == dataset.fingerprint():
            return Put.UNCHANGED
        if old is not None:
            self._by_iri.pop(old.iri, None)
        self._items[dataset.id] = dataset
        self._by_iri[dataset.iri] = dataset.id
        return Put.CREATED if old is None else Put.UPDATED

    async def put_many(self, datasets: Iterable[Dataset]) -> list[Put]:
        return [await self.put(d) for d in datasets]

    async def get(self, dataset_id: str) -> Dataset | None:
        return self._items.get(dataset_id)

    async def get_by_iri(self, iri: str) -> Dataset | None:
        found = self._by_iri.get(iri)
        return self._items.get(found) if found else None

    async def lookup(self, key: str) -> Dataset | None:
        return await self.get_by_iri(key) or await self.get(key)

    async def delete(self, dataset_id: str) -> bool:
        old = self._items.pop(dataset_id, None)
        if old is None:
            return False
        self._by_iri.pop(old.iri, None)
        return True

    async def list(
        self, levels: frozenset[Access] = frozenset(Access), limit: int = 100, offset: int = 0
    ) -> list[Dataset]:
        return self._sorted(levels)[offset : offset + limit]

    async def count(self, levels: frozenset[Access] = frozenset(Access)) -> int:
        return sum(1 for d in self._items.values() if d.access in levels)

    async def hashes(self, levels: frozenset[Access] = frozenset(Access), limit: int | None = None,
                     offset: int = 0, iris: Collection[str] | None = None) -> list[tuple[str, str]]:
        found = self._sorted(levels) if iris is None else await self.by_iris(levels, iris)
        window = found[offset:] if limit is None else found[offset:offset + limit]
        return [(d.iri, d.fingerprint()) for d in window]

    async def by_iris(self, levels: frozenset[Access], iris: Collection[str]) -> list[Dataset]:
        found = (self._items[i] for i in {self._by_iri[iri] for iri in iris if iri in self._by_iri})
        return sorted((d for d in found if d.access in levels), key=lambda d: d.id)

    def _sorted(self, levels: frozenset[Access]) -> list[Dataset]:
        return sorted((d for d in self._items.values() if d.access in levels), key=lambda d: d.id)
