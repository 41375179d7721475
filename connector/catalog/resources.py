"""The catalog's app resource: one CatalogService per app, mirrored into SPARQL when serving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from connector.catalog.service import CatalogService, CatalogSink, SparqlSink
from connector.catalog.sql import SqlCatalogStore

CATALOG = web.AppKey("catalog", CatalogService)
DSP_PATH = "/dsp"  # what /.well-known/dspace-version advertises


def service_for(node, sink: CatalogSink | None = None, allowed_roots: tuple[Path, ...] | None = None) -> CatalogService:  # type: ignore[no-untyped-def]
    """The service on a Node (connector.app.node.Node): its database, DID, folder and anchors."""
    config = node.config
    return CatalogService(
        SqlCatalogStore(node.database),
        home=config.home,
        did=node.did,
        public_url=config.public_url,
        trust_anchors=config.trust_anchors,
        allowed_roots=allowed_roots,
        sink=sink,
        dsp_path=DSP_PATH,
        name=config.name,
    )


async def catalog_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the public app, after sparql_context: mirrors the public catalog into the
    SPARQL store (one named graph per dataset) and keeps it in step."""
    from connector.app.keys import NODE
    from connector.sparql import SPARQL

    node = app[NODE]
    sparql = app.get(SPARQL)
    # a service set beforehand (shared with the management app) gets the sink too
    service = app.get(CATALOG) or service_for(node)
    if sparql is not None:
        service.sink = SparqlSink(sparql.store)
    app[CATALOG] = service
    await service.resync()
    yield
    await service.mark_synced()
    service.sink = None  # the SPARQL store closes after this


async def management_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the management app. No sink here: the management app may run without
    the public one; see the report for sharing the public app's service instead."""
    from connector.app.keys import NODE

    if CATALOG not in app:
        app[CATALOG] = service_for(app[NODE])
    yield
