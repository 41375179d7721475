"""The catalog store on SQLAlchemy (SQLite or PostgreSQL).

The dataset is kept whole as JSON in `document`; the columns beside it exist for lookups,
filtering and paging (the (access, id) index serves a catalog page without a scan).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.catalog.model import Access, Dataset, from_json, to_json
from connector.catalog.store import Put
from connector.storage.database import Database
from connector.storage.metadata import metadata

catalog_datasets = sa.Table(
    "catalog_datasets",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("iri", sa.String(2048), nullable=False),
    sa.Column("access", sa.String(16), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
    sa.Column("document", sa.Text(), nullable=False),
    sa.Index("ix_catalog_datasets_access_id", "access", "id"),
    sa.Index("uq_catalog_datasets_iri", "iri", unique=True),
)


# the lookups of the hot path, built once (building one costs more than running it)
_C = catalog_datasets.c
_BY_ID = catalog_datasets.select().where(_C.id == sa.bindparam("key"))
_BY_IRI = catalog_datasets.select().where(_C.iri == sa.bindparam("key"))
_BY_IRI_OR_ID = (
    catalog_datasets.select()
    .where(sa.or_(_C.iri == sa.bindparam("key"), _C.id == sa.bindparam("key")))
    .order_by(sa.case((_C.iri == sa.bindparam("key"), 0), else_=1))
    .limit(1)
)


def _from_row(row: sa.Row) -> Dataset:
    return from_json(json.loads(row.document))


class SqlCatalogStore:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def _put_all(self, connection: AsyncConnection, datasets: list[Dataset]) -> list[Put]:
        """Batched: one lookup per 500 ids, one executemany for inserts and one for updates
        (an import of thousands of datasets is a handful of statements, not two per dataset)."""
        old: dict[str, str] = {}
        ids = [d.id for d in datasets]
        for start in range(0, len(ids), 500):
            query = sa.select(catalog_datasets.c.id, catalog_datasets.c.content_hash).where(
                catalog_datasets.c.id.in_(ids[start : start + 500])
            )
            old.update({row.id: row.content_hash for row in await connection.execute(query)})
        results, inserts, updates = [], [], []
        for dataset in datasets:
            fingerprint = dataset.fingerprint()
            if old.get(dataset.id) == fingerprint:
                results.append(Put.UNCHANGED)
                continue
            values = {
                "iri": dataset.iri,
                "access": dataset.access.value,
                "content_hash": fingerprint,
                "modified": dataset.modified,
                "document": json.dumps(to_json(dataset)),
            }
            if dataset.id in old:
                updates.append({"key": dataset.id, **values})
                results.append(Put.UPDATED)
            else:
                inserts.append({"id": dataset.id, **values})
                results.append(Put.CREATED)
            old[dataset.id] = fingerprint  # the same id twice in one batch: the last wins
        if inserts:
            await connection.execute(catalog_datasets.insert(), inserts)
        if updates:
            update = catalog_datasets.update().where(catalog_datasets.c.id == sa.bindparam("key"))
            await connection.execute(update, updates)
        return results

    async def put(self, dataset: Dataset) -> Put:
        async with self._engine.begin() as connection:
            return (await self._put_all(connection, [dataset]))[0]

    async def put_many(self, datasets: Iterable[Dataset]) -> list[Put]:
        async with self._engine.begin() as connection:
            return await self._put_all(connection, list(datasets))

    async def _one(self, query: sa.Executable, key: str) -> Dataset | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(query, {"key": key})).first()
        return _from_row(row) if row else None

    async def get(self, dataset_id: str) -> Dataset | None:
        return await self._one(_BY_ID, dataset_id)

    async def get_by_iri(self, iri: str) -> Dataset | None:
        return await self._one(_BY_IRI, iri)

    async def lookup(self, key: str) -> Dataset | None:
        return await self._one(_BY_IRI_OR_ID, key)

    async def delete(self, dataset_id: str) -> bool:
        query = catalog_datasets.delete().where(catalog_datasets.c.id == dataset_id)
        async with self._engine.begin() as connection:
            result = await connection.execute(query)
        return result.rowcount > 0

    async def list(
        self, levels: frozenset[Access] = frozenset(Access), limit: int = 100, offset: int = 0
    ) -> list[Dataset]:
        query = (
            sa.select(catalog_datasets.c.document)
            .where(catalog_datasets.c.access.in_(sorted(levels)))
            .order_by(catalog_datasets.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_from_row(row) for row in rows]

    async def count(self, levels: frozenset[Access] = frozenset(Access)) -> int:
        query = sa.select(sa.func.count()).select_from(catalog_datasets)
        query = query.where(catalog_datasets.c.access.in_(sorted(levels)))
        async with self._engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def hashes(self, levels: frozenset[Access] = frozenset(Access), limit: int | None = None,
                     offset: int = 0, iris: Collection[str] | None = None) -> list[tuple[str, str]]:
        query = (
            sa.select(catalog_datasets.c.iri, catalog_datasets.c.content_hash)
            .where(catalog_datasets.c.access.in_(sorted(levels)))
            .order_by(catalog_datasets.c.id)
            .limit(limit)
            .offset(offset)
        )
        if iris is not None:
            query = query.where(catalog_datasets.c.iri.in_(sorted(set(iris))))
        async with self._engine.connect() as connection:
            return [(row.iri, row.content_hash) for row in await connection.execute(query)]

    async def by_iris(self, levels: frozenset[Access], iris: Collection[str]) -> list[Dataset]:
        query = (
            sa.select(catalog_datasets.c.document)
            .where(catalog_datasets.c.access.in_(sorted(levels)), catalog_datasets.c.iri.in_(sorted(set(iris))))
            .order_by(catalog_datasets.c.id)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_from_row(row) for row in rows]
