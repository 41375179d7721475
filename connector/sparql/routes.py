"""`/sparql` over HTTP: the protocol, content negotiation, the service description and CORS.

Every answer, errors included, carries `Access-Control-Allow-Origin: *` so that browser clients
read the results and the messages. Errors are one sentence of text/plain: that is what SPARQL
clients (SPARQLWrapper, rdflib, Jena, curl users) show their users. A caller over its share of
the workers gets 429, and any answer after which asking again later can succeed (429, 503 when
no worker came free) says when in Retry-After.
"""

from __future__ import annotations

import logging

from aiohttp import web

from connector.errors import ConnectorError
from connector.sparql.callers import client_of
from connector.sparql.description import serialized
from connector.sparql.formats import Kind, acceptable_at_all, choose, offered, parse_accept
from connector.sparql.guard import QueryRefused, check_query
from connector.sparql.protocol import ProtocolError, read_request
from connector.sparql.service import SPARQL

log = logging.getLogger("communs.sparql")
PATH = "/sparql"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
}
_TEXT_TYPES = ("text/", "application/n-triples")

public = web.RouteTableDef()


def error(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", headers=CORS)


def _content_type(media: str) -> str:
    return f"{media}; charset=utf-8" if media.startswith(_TEXT_TYPES) else media


def _answer(status: int, media: str, body: bytes) -> web.Response:
    headers = {**CORS, "Content-Type": _content_type(media), "Vary": "Accept"}
    return web.Response(status=status, body=body, headers=headers)


@public.get(PATH)
@public.post(PATH)
async def sparql(request: web.Request) -> web.Response:
    service = request.app[SPARQL]
    endpoint = str(request.url.with_query(None))
    preferences = parse_accept(request.headers.get("Accept"))
    try:
        operation = await read_request(request, service.settings.max_body_bytes)
        if operation.query is None:
            return _description(endpoint, preferences, service)
        check_query(operation.query)
    except ProtocolError as exc:
        return error(exc.status, str(exc))
    except QueryRefused as exc:
        return error(exc.status, str(exc))
    if not acceptable_at_all(preferences):
        offers = ", ".join(offered())
        return error(406, f"the Accept header refuses every format we produce; offered: {offers}")
    try:
        client = await client_of(request, service.settings.limits)
    except ConnectorError as exc:
        response = error(exc.status, str(exc))
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="sparql"'
        return response
    answer = await service.engine.execute(
        operation.query,
        preferences,
        client=client,
        default_graphs=operation.default_graphs,
        named_graphs=operation.named_graphs,
        base_iri=endpoint,
    )
    if answer.status != 200 or answer.media is None:
        if answer.status >= 500:
            log.warning("sparql: %s", answer.message)
        response = error(answer.status, answer.message or "the query failed")
        if answer.retry_after is not None:
            response.headers["Retry-After"] = str(answer.retry_after)
        return response
    return _answer(200, answer.media, answer.body)


def _description(endpoint: str, preferences, service) -> web.Response:
    fmt = choose(Kind.GRAPH, preferences)
    if fmt is None:
        return error(
            406, "the service description is available as Turtle, N-Triples, JSON-LD or RDF/XML"
        )
    return _answer(200, fmt.media, serialized(endpoint, service.settings.limits, fmt.name))


@public.route("OPTIONS", PATH)
async def preflight(request: web.Request) -> web.Response:
    headers = dict(PREFLIGHT)
    # allow what the browser asks for (Content-Type, Accept, ...): nothing here depends on a secret
    headers["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", "Accept, Content-Type"
    )
    headers["Allow"] = "GET, HEAD, POST, OPTIONS"
    return web.Response(status=204, headers=headers)
