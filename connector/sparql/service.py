"""The SPARQL service of a node: its store, its query engine and their limits, opened and closed together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from connector.config import SparqlConfig
from connector.sparql.engine import Limits, SparqlEngine
from connector.sparql.share import Share
from connector.sparql.store import RdfStore

STORE_DIR = "store"
SNAPSHOTS_DIR = "snapshots"


@dataclass(frozen=True)
class SparqlSettings:
    limits: Limits = field(default_factory=Limits)
    max_body_bytes: int = 512 * 1024  # a form or direct POST larger than this gets 413

    @classmethod
    def of(cls, config: SparqlConfig) -> SparqlSettings:
        """The settings that a node's [sparql] table in communs.toml asks for."""
        c = config
        shares = {
            "anonymous": Share(c.anonymous_running, c.anonymous_waiting, c.anonymous_timeout),
            "member": Share(c.member_running, c.member_waiting, c.member_timeout),
        }
        return cls(limits=Limits(**shares))


@dataclass
class SparqlService:
    store: RdfStore  # the only way to write: replace_graph, remove_graph, bulk_load
    engine: SparqlEngine
    settings: SparqlSettings


SPARQL = web.AppKey("sparql", SparqlService)


@asynccontextmanager
async def open_sparql(
    folder: Path, settings: SparqlSettings | None = None
) -> AsyncIterator[SparqlService]:
    """Open `<folder>/store` (created if missing) and start the query workers; stop them on exit."""
    settings = settings or SparqlSettings()
    store = await asyncio.to_thread(RdfStore.open, folder / STORE_DIR)
    engine = SparqlEngine(store, folder / SNAPSHOTS_DIR, settings.limits)
    try:
        await engine.start()
        yield SparqlService(store, engine, settings)
    finally:
        await engine.close()
        await asyncio.to_thread(store.close)
