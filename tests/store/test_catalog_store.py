"""The catalog store contract, on every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from connector.catalog.model import Access, Dataset, Distribution
from connector.catalog.sql import SqlCatalogStore
from connector.catalog.store import InMemoryCatalogStore, Put
from tests.conftest import database_backends, open_test_database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def dataset(n: int, access: Access = Access.PUBLIC) -> Dataset:
    return Dataset(
        id=f"id-{n:04d}",
        iri=f"https://data.example/dataset/{n}",
        title=f"Dataset {n} — héllo",
        publisher="did:web:provider.example",
        access=access,
        offers=('{"@id": "urn:uuid:o", "@type": "Offer", "permission": [{"action": "use"}]}',),
        distributions=(
            Distribution(
                iri=f"https://data.example/dataset/{n}#d", media_type="text/csv", byte_size=n,
                checksum="ab" * 32, file=f"id-{n:04d}/a.csv",
            ),
        ),
        description="line one\nline two",
        keywords=("air", "quality"),
        license="https://www.etalab.gouv.fr/licence-ouverte-open-licence",
        issued=NOW,
        modified=NOW,
    )


@pytest.fixture(params=["memory", *database_backends()])
async def store(request, tmp_path):
    if request.param == "memory":
        yield InMemoryCatalogStore()
        return
    async with open_test_database(request.param, tmp_path) as db:
        yield SqlCatalogStore(db)


async def test_put_then_get_round_trips_every_field(store):
    original = dataset(3)
    assert await store.put(original) is Put.CREATED
    assert await store.get(original.id) == original
    assert await store.get_by_iri(original.iri) == original
    assert await store.get("nope") is None and await store.get_by_iri("urn:nope") is None


async def test_lookup_takes_an_iri_first_then_a_local_id(store):
    first = dataset(1)
    # another dataset whose IRI is the first one's local id: the IRI wins
    shadow = dataclasses.replace(dataset(2), iri=first.id)
    await store.put_many([first, shadow])
    assert await store.lookup(first.iri) == first
    assert await store.lookup(first.id) == shadow
    assert await store.lookup(shadow.id) == shadow
    assert await store.lookup("nope") is None


async def test_putting_the_same_content_is_unchanged_and_a_change_updates(store):
    first = dataset(1)
    await store.put(first)
    later = dataclasses.replace(first, modified=datetime(2027, 1, 1, tzinfo=UTC))
    assert await store.put(later) is Put.UNCHANGED  # times are not content
    changed = dataclasses.replace(first, title="New title")
    assert await store.put(changed) is Put.UPDATED
    assert (await store.get(first.id)).title == "New title"
    assert (await store.get_by_iri(first.iri)).title == "New title"


async def test_put_many_reports_each(store):
    await store.put(dataset(1))
    results = await store.put_many([dataset(1), dataclasses.replace(dataset(2)), dataset(3)])
    assert results == [Put.UNCHANGED, Put.CREATED, Put.CREATED]
    assert await store.count() == 3


async def test_list_pages_in_id_order_filtered_by_access(store):
    for n in (5, 1, 4, 2, 3):
        await store.put(dataset(n, Access.MEMBERS if n % 2 == 0 else Access.PUBLIC))
    public = frozenset({Access.PUBLIC})
    assert [d.id for d in await store.list(public)] == ["id-0001", "id-0003", "id-0005"]
    assert await store.count(public) == 3 and await store.count() == 5
    assert [d.id for d in await store.list(limit=2, offset=1)] == ["id-0002", "id-0003"]
    assert await store.list(limit=10, offset=5) == []
    hashes = await store.hashes(public)
    assert [iri for iri, _ in hashes] == [dataset(n).iri for n in (1, 3, 5)]
    assert hashes[0][1] == dataset(1).fingerprint()


async def test_delete_removes_only_that_dataset(store):
    await store.put(dataset(1))
    await store.put(dataset(2))
    assert await store.delete("id-0001") is True
    assert await store.delete("id-0001") is False
    assert await store.get("id-0001") is None and await store.get_by_iri(dataset(1).iri) is None
    assert await store.get("id-0002") is not None
