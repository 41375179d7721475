"""What members serve, as RDF triples: JSON-LD with the bundled contexts only (a remote
`@context` that communs does not bundle is refused, never fetched), Turtle, N-Triples and
RDF/XML by media type; every source bounded in triples. Parsing is pyoxigraph's, run off the
event loop by the caller."""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox

from connector import strictjson
from vocab import jsonld
from vocab.errors import VocabError
from vocab.loader import load_context

MEDIA = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/json": ox.RdfFormat.JSON_LD,
}
ACCEPT = "application/n-triples, text/turtle;q=0.9, application/ld+json;q=0.8, application/rdf+xml;q=0.5"


class RdfProblem(Exception):
    """A document that cannot be read as RDF: one sentence saying why."""


def _inline(node: Any, depth: int = 0) -> Any:
    """NODE with every context URL replaced by the bundled context it names."""
    if depth > 64:
        raise RdfProblem("the JSON-LD is nested too deeply")
    if isinstance(node, list):
        return [_inline(item, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "@context":
            out[key] = _context(value, depth + 1)
        else:
            out[key] = _inline(value, depth + 1)
    return out


def _context(value: Any, depth: int) -> Any:
    if isinstance(value, list):
        return [_context(item, depth + 1) for item in value]
    if isinstance(value, str):
        try:
            return _inline(load_context(value)["@context"], depth + 1)
        except VocabError as exc:
            raise RdfProblem(str(exc)) from None
    return _inline(value, depth + 1)


def inline_context(value: Any) -> Any:
    """An `@context` value with every context URL replaced by the bundled context it names."""
    return _context(value, 0)


def jsonld_triples(doc: Any, base_iri: str, max_triples: int) -> list[ox.Triple]:
    """The triples of a JSON-LD document (its named graphs' triples too, flattened)."""
    data = json.dumps(_inline(doc), ensure_ascii=False).encode()
    return _parse(data, ox.RdfFormat.JSON_LD, base_iri, max_triples)


def small_jsonld_triples(doc: Any, base_iri: str, max_triples: int) -> list[ox.Triple]:
    """The triples of a small document through pyld (what the SHACL validation reads too):
    pyoxigraph's JSON-LD parser refuses some protected-term redefinitions of the credentials
    contexts that JSON-LD 1.1 allows when they are identical."""
    try:
        nquads = jsonld.to_nquads(doc)
    except VocabError as exc:
        raise RdfProblem(str(exc)) from None
    except RecursionError:
        raise RdfProblem("the JSON-LD is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - pyld fails in odd ways on odd input
        raise RdfProblem(f"not valid JSON-LD ({type(exc).__name__})") from None
    return _parse(nquads.encode(), ox.RdfFormat.N_QUADS, base_iri, max_triples)


def json_value(body: bytes) -> Any:
    try:
        return strictjson.loads(body)
    except ValueError as exc:
        raise RdfProblem(f"not valid JSON: {exc}") from None


def document_triples(body: bytes, media: str, base_iri: str, max_triples: int) -> list[ox.Triple]:
    """The triples of BODY served as MEDIA."""
    fmt = MEDIA.get(media.split(";")[0].strip().lower())
    if fmt is None:
        raise RdfProblem(f"the media type {media[:80]!r} is not an RDF format read here")
    if fmt == ox.RdfFormat.JSON_LD:
        return jsonld_triples(json_value(body), base_iri, max_triples)
    return _parse(body, fmt, base_iri, max_triples)


def _parse(data: bytes, fmt: ox.RdfFormat, base_iri: str, max_triples: int) -> list[ox.Triple]:
    triples: list[ox.Triple] = []
    try:
        for quad in ox.parse(data, fmt, base_iri=base_iri):
            triples.append(quad.triple)
            if len(triples) > max_triples:
                raise RdfProblem(f"the document has more than {max_triples} triples")
    except (SyntaxError, ValueError) as exc:
        raise RdfProblem(f"not valid {fmt.name}: {str(exc)[:200]}") from None
    return triples
