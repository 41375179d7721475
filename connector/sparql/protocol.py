"""The SPARQL 1.1 Protocol's request side: which operation an HTTP request carries, or why it is refused.

Three ways to send a query: GET ?query=, POST application/x-www-form-urlencoded (query= in the
body, dataset parameters in the body or the URL) and POST application/sparql-query (the body is
the query, dataset parameters in the URL). Exactly one query; UTF-8 only. Updates, in any of
their forms, are refused with 403: the endpoint is read-only. A GET without query asks for the
service description.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

import pyoxigraph as ox
from aiohttp import web
from multidict import MultiDict, MultiDictProxy

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")
READ_ONLY = "SPARQL Update is not accepted: this endpoint is read-only"


class ProtocolError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SparqlRequest:
    query: str | None  # None: the service description is asked for
    default_graphs: list[str] | None = None  # None: the default (union) dataset
    named_graphs: list[str] | None = None


async def read_request(request: web.Request, max_body: int) -> SparqlRequest:
    url_params = request.query
    if request.method in ("GET", "HEAD"):
        return _operation(url_params)
    if "Content-Type" not in request.headers:
        raise ProtocolError(415, f"a POST needs Content-Type {FORM} or {QUERY}")
    media = request.content_type
    if media == UPDATE:
        raise ProtocolError(403, READ_ONLY)
    if media not in (FORM, QUERY):
        raise ProtocolError(415, f"Content-Type {media} is not accepted: use {FORM} or {QUERY}")
    charset = request.charset
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ProtocolError(415, f"charset {charset} is not accepted: send the query in UTF-8")
    text = _utf8(await read_body(request, max_body))
    if media == QUERY:
        if "query" in url_params:
            raise ProtocolError(400, "the query is given twice: in the body and in the URL")
        _refuse_update(url_params)
        return SparqlRequest(text, *_dataset(url_params))
    try:
        form = MultiDict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"))
    except UnicodeDecodeError:
        raise ProtocolError(400, "the form is not valid UTF-8 once percent-decoded") from None
    form.extend(url_params)
    operation = _operation(MultiDictProxy(form))
    if operation.query is None:
        raise ProtocolError(400, "the form has no query parameter")
    return operation


def _operation(params: MultiDictProxy[str]) -> SparqlRequest:
    _refuse_update(params)
    queries = params.getall("query", [])
    if len(queries) > 1:
        raise ProtocolError(400, "exactly one query parameter is allowed")
    if not queries:
        return SparqlRequest(None)
    return SparqlRequest(queries[0], *_dataset(params))


def _refuse_update(params: MultiDictProxy[str]) -> None:
    if any(name in params for name in UPDATE_PARAMS):
        raise ProtocolError(403, READ_ONLY)


def _dataset(params: MultiDictProxy[str]) -> tuple[list[str] | None, list[str] | None]:
    default = params.getall("default-graph-uri", [])
    named = params.getall("named-graph-uri", [])
    for iri in (*default, *named):
        try:
            ox.NamedNode(iri)
        except ValueError as exc:
            raise ProtocolError(400, f"graph IRI {iri!r} is not valid: {exc}") from None
    if not default and not named:
        return None, None
    return default, named


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, "the request body is not valid UTF-8") from None


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    too_large = ProtocolError(413, f"the request body is larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    data = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise too_large
    return bytes(data)
