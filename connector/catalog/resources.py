"""The catalog's app resource: one CatalogService per app, mirrored into SPARQL when serving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from connector.catalog.mirror import CatalogSink, SparqlSink
from connector.catalog.service import DATA_DIR, CatalogService
from connector.catalog.sql import SqlCatalogStore
from connector.config import TOKEN_FILE
from connector.ledger.config import membership_issuer
from connector.node import NODE, Node
from connector.sparql import SPARQL

CATALOG = web.AppKey("catalog", CatalogService)
DSP_PATH = "/dsp"  # what /.well-known/dspace-version advertises


def service_for(node: Node, sink: CatalogSink | None = None,
                operator: bool = False) -> CatalogService:
    """The service on a node: its database, DID, folder and anchors.
    OPERATOR: for the operator's own shell, which may publish any file it can read; otherwise
    (the management API) files come from the folders of the node's [catalog] settings."""
    config = node.config
    return CatalogService(
        SqlCatalogStore(node.database),
        home=config.home,
        did=node.did,
        public_url=config.public_url,
        trust_anchors=(*config.trust_anchors, *filter(None, [membership_issuer(config.home, config.ledger)])),
        allowed_roots=None if operator else publish_roots(config),
        secrets=node_secrets(node),
        sink=sink,
        dsp_path=DSP_PATH,
        max_upload_bytes=config.catalog.max_upload_bytes,
        name=config.name,
    )


def publish_roots(config) -> tuple[Path, ...]:  # type: ignore[no-untyped-def]
    if config.catalog.publish_roots is None:
        return (Path.cwd(), config.home / DATA_DIR)
    return tuple(config.home / Path(root).expanduser() for root in config.catalog.publish_roots)


def node_secrets(node: Node) -> tuple[bytes, ...]:
    """What no published file may contain: the management token and the private keys."""
    found = [node.keys.key(crv).private_jwk()["d"].encode() for crv in ("Ed25519", "P-256")]
    try:
        found.append((node.config.home / TOKEN_FILE).read_bytes().strip())
    except OSError:
        pass  # no token, nothing to guard
    return tuple(found)


async def catalog_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the public app, after sparql_context: mirrors the public catalog into the
    SPARQL store (one named graph per dataset) and keeps it in step."""
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
    if CATALOG not in app:
        app[CATALOG] = service_for(app[NODE])
    yield
