"""The federated catalog over HTTP, on a node's public app:

  GET|POST /federation/sparql   SPARQL 1.1 Protocol over the crawled graphs, with the limits
                                and query engine of the node's own /sparql
  GET /federation/catalog       the public datasets as DCAT-AP, paged (Link headers, Hydra)

What the crawler saw as a member (the DSP catalogs) is shown to members only: any other
caller's queries run over the public graphs (DID documents, self-descriptions, DCAT exports,
provenance), whatever graphs the query or the request names.

Wiring: `app.add_routes(routes.public)` beside `app.cleanup_ctx.append(crawler_context(...))`."""

from __future__ import annotations

import asyncio

import pyoxigraph as ox
from aiohttp import web

from connector.catalog.export import FORMATS, choose, serialize
from connector.crawler import export
from connector.crawler.graphs import PROVENANCE
from connector.crawler.service import CRAWLER, CrawlerService
from connector.errors import ConnectorError
from connector.sparql.callers import client_of
from connector.sparql.description import serialized
from connector.sparql.formats import Kind, acceptable_at_all, offered, parse_accept
from connector.sparql.formats import choose as choose_format
from connector.sparql.guard import QueryRefused, check_query, dataset_clauses
from connector.sparql.protocol import ProtocolError, read_request
from connector.sparql.routes import CORS, _answer, error

SPARQL_PATH = "/federation/sparql"
CATALOG_PATH = "/federation/catalog"
DEFAULT_PAGE, MAX_PAGE = 100, 500
MEMBERS_ONLY = ("dsp-catalog",)

public = web.RouteTableDef()


def _service(request: web.Request) -> CrawlerService:
    service = request.config_dict.get(CRAWLER)
    if service is None or service.sparql is None:
        raise web.HTTPNotFound(text="this node serves no federated catalog\n")
    return service


def public_graphs(service: CrawlerService) -> list[str]:
    names = [name for name, s in service.crawler.states.items() if s.kind not in MEMBERS_ONLY]
    return sorted(names) + [PROVENANCE]


def _narrowed(asked: list[str] | None, allowed: list[str]) -> list[str]:
    return allowed if asked is None else [g for g in asked if g in set(allowed)]


@public.get(SPARQL_PATH)
@public.post(SPARQL_PATH)
async def federation_sparql(request: web.Request) -> web.Response:
    service = _service(request)
    sparql = service.sparql
    assert sparql is not None
    endpoint = str(request.url.with_query(None))
    preferences = parse_accept(request.headers.get("Accept"))
    try:
        operation = await read_request(request, sparql.settings.max_body_bytes)
        if operation.query is None:
            fmt = choose_format(Kind.GRAPH, preferences)
            if fmt is None:
                return error(406, "the service description is available as Turtle, N-Triples, JSON-LD or RDF/XML")
            return _answer(200, fmt.media, serialized(endpoint, sparql.settings.limits, fmt.name))
        check_query(operation.query)
    except (ProtocolError, QueryRefused) as exc:
        return error(exc.status, str(exc))
    if not acceptable_at_all(preferences):
        return error(406, f"the Accept header refuses every format this endpoint produces; "
                          f"offered: {', '.join(offered())}")
    try:
        client = await client_of(request, sparql.settings.limits)
    except ConnectorError as exc:
        response = error(exc.status, str(exc))
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="sparql"'
        return response
    defaults, named = operation.default_graphs, operation.named_graphs
    if client.share is not sparql.settings.limits.member:  # not a member: public graphs only
        allowed = public_graphs(service)
        if defaults is None and named is None:  # the query's FROM keeps its meaning, narrowed
            defaults, named = dataset_clauses(operation.query, endpoint) or (None, None)
        defaults, named = _narrowed(defaults, allowed), _narrowed(named, allowed)
    answer = await sparql.engine.execute(operation.query, preferences, client=client,
                                         default_graphs=defaults, named_graphs=named,
                                         base_iri=endpoint)
    if answer.status != 200 or answer.media is None:
        response = error(answer.status, answer.message or "the query failed")
        if answer.retry_after is not None:
            response.headers["Retry-After"] = str(answer.retry_after)
        return response
    return _answer(200, answer.media, answer.body)


def _paging(request: web.Request) -> tuple[int, int]:
    try:
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", str(DEFAULT_PAGE)))
    except ValueError:
        raise web.HTTPBadRequest(text="offset and limit must be integers\n") from None
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise web.HTTPBadRequest(text=f"offset must be >= 0 and limit between 1 and {MAX_PAGE}\n")
    return offset, limit


@public.get(CATALOG_PATH)
async def federation_catalog(request: web.Request) -> web.Response:
    service = _service(request)
    media = choose(request.headers.get("Accept"))
    if media is None:
        raise web.HTTPNotAcceptable(text=f"acceptable: {', '.join(FORMATS)}\n")
    offset, limit = _paging(request)
    base = (service.public_url.rstrip("/") or str(request.url.origin())) + CATALOG_PATH
    store = service.sparql.store.store  # type: ignore[union-attr]

    def render() -> tuple[bytes, dict[str, str]]:
        triples, datasets, total = export.page(store, offset, limit)
        paging = export.links(base, offset, limit, total)
        publisher = service.crawler.ctx.signer.did if service.crawler.ctx.signer else None
        triples += export.catalog(base, "Federated catalog", publisher, datasets, paging, total)
        text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode()
        return serialize(text, media), paging

    body, paging = await asyncio.to_thread(render)
    link = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in paging.items() if rel != "self")
    headers = {**CORS, "Link": link, "Vary": "Accept"}
    return web.Response(body=body, content_type=media, charset="utf-8", headers=headers)
