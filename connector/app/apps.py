"""The two app factories: the public surface and the management API (token-protected)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib.metadata import version

from aiohttp import web

from connector import console
from connector.app import docs, health
from connector.app.middleware import bearer_auth, checked_bodies, observe, problems
from connector.auth import routes as auth
from connector.auth.middleware import dcp_auth
from connector.auth.resources import auth_context
from connector.auth.static_callers import StaticCallers
from connector.catalog import routes as catalog
from connector.catalog.resources import DSP_PATH, catalog_context, management_context
from connector.compute import routes as compute
from connector.compute.manager import COMPUTE, compute_context, management_compute
from connector.crawler import routes as crawler_routes
from connector.crawler.service import crawler_context
from connector.identity import routes as identity
from connector.ledger import routes as ledger_routes
from connector.ledger.anchors import Anchorer
from connector.ledger.service import LEDGER
from connector.negotiation import routes as negotiation
from connector.negotiation.manager import NEGOTIATIONS, management_negotiations, negotiation_context
from connector.node import NODE, Node
from connector.selfdescription import routes as selfdescription
from connector.sparql import SPARQL, SparqlSettings, open_sparql
from connector.sparql import public as sparql
from connector.transfer import dataplane
from connector.transfer import routes as transfer
from connector.transfer.manager import management_transfers, transfer_context


def build_public_app(node: Node) -> web.Application:
    app = web.Application(
        # DSP endpoints need a caller's DCP token unless a route allows anonymous callers
        middlewares=[observe("public", node.metrics), problems,
                     dcp_auth(DSP_PATH, static=StaticCallers.load(node.config.home, node.config.static_callers)),
                     checked_bodies],
        client_max_size=node.config.max_body_bytes,
    )
    app[NODE] = node
    app[health.READINESS] = health.Readiness(node.database)
    app.cleanup_ctx.extend([sparql_context, catalog_context, auth_context, negotiation_context])  # in this order
    app.cleanup_ctx.append(compute_context)  # after negotiation_context
    app.cleanup_ctx.append(transfer_context)  # after negotiation_context
    app.cleanup_ctx.append(anchoring_context)  # after compute_context and negotiation_context
    if node.config.crawler.enabled:  # the federated catalog, crawled on schedule
        app.cleanup_ctx.append(crawler_context(
            node.config.home, node.config.crawler, public_url=node.config.public_url,
            settings=SparqlSettings.of(node.config.sparql), signer=node.signer))
    app.add_routes(health.routes)
    app.add_routes(identity.public)
    app.add_routes(selfdescription.public)
    app.add_routes(sparql)
    app.add_routes(catalog.public)
    app.add_routes(auth.public)
    app.add_routes(negotiation.public)
    app.add_routes(compute.public)
    app.add_routes(transfer.public)
    app.add_routes(dataplane.routes)
    app.add_routes(crawler_routes.public)
    return app


async def sparql_context(app: web.Application) -> AsyncIterator[None]:
    """The SPARQL store and its query workers live as long as the public app; only the serving
    node opens them (the store takes a lock), with its self-description loaded."""
    node = app[NODE]
    settings = SparqlSettings.of(node.config.sparql)
    async with open_sparql(node.config.home / "sparql", settings) as service:
        app[SPARQL] = service
        rdf = await asyncio.to_thread(node.self_descriptions.rdf)
        if rdf is not None:
            iri = node.self_descriptions.graph_iri(node.config.public_url)
            await service.store.replace_graph(iri, rdf, format="application/n-quads")
        yield


async def anchoring_context(app: web.Application) -> AsyncIterator[None]:
    """With a ledger, the provider's agreements and compute receipts are anchored on it."""
    ledger = app.get(LEDGER)
    if ledger is None:
        yield
        return
    anchorer = Anchorer(ledger, app[NEGOTIATIONS].store, app[COMPUTE].store)
    task = asyncio.create_task(anchorer.run(), name="ledger-anchors")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_management_app(node: Node, token: str) -> web.Application:
    app = web.Application(
        middlewares=[observe("management", node.metrics), problems, bearer_auth(token, "/api/v1/"), checked_bodies],
        client_max_size=node.config.max_body_bytes,
    )
    app[NODE] = node
    app.cleanup_ctx.extend([management_context, management_negotiations])
    app.cleanup_ctx.append(management_compute)
    app.cleanup_ctx.append(management_transfers)  # after management_negotiations
    app.router.add_get("/api/v1/node", node_info)
    app.add_routes(identity.management)
    app.add_routes(catalog.management)
    app.add_routes(negotiation.management)
    app.add_routes(compute.management)
    app.add_routes(transfer.management)
    app.add_routes(ledger_routes.management)
    app.add_routes(selfdescription.management)
    app.add_routes(docs.routes)
    docs.add_static(app)
    console.mount(app, token)  # the web console at /, signed in with the same token
    return app


async def node_info(request: web.Request) -> web.Response:
    node = request.app[NODE]
    config = node.config
    return web.json_response(
        {
            "name": config.name,
            "did": node.did,
            "publicUrl": config.public_url,
            "managementUrl": config.management_url,
            "country": config.country,
            "registrationNumber": config.registration_number,
            "version": version("communs"),
        }
    )
