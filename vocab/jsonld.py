"""JSON-LD helpers that always use the offline loader.

RDF is produced by pyld (never by rdflib's JSON-LD parser, which fetches remote contexts).
"""

from __future__ import annotations

import json
from typing import Any

from pyld import jsonld
from pyld.jsonld import JsonLdError
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from vocab.canon import canonical_nquads
from vocab.errors import VocabError, VocabReason
from vocab.loader import document_loader

_OPTIONS: dict[str, Any] = {"documentLoader": document_loader}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _unwrap(exc: JsonLdError) -> VocabError:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, VocabError):
            return cause
        cause = getattr(cause, "cause", None) or cause.__cause__
    return VocabError(VocabReason.MALFORMED_JSONLD, f"invalid JSON-LD: {exc}")


def parse_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VocabError(VocabReason.MALFORMED_JSONLD, f"not valid JSON: {exc}") from None


def expand(doc: Any) -> list[dict[str, Any]]:
    try:
        return jsonld.expand(doc, dict(_OPTIONS))
    except JsonLdError as exc:
        raise _unwrap(exc) from None


def compact(doc: Any, context: Any) -> dict[str, Any]:
    try:
        return jsonld.compact(doc, context, dict(_OPTIONS))
    except JsonLdError as exc:
        raise _unwrap(exc) from None


def to_nquads(doc: Any) -> str:
    """The document's RDF dataset as N-Quads (not canonical)."""
    try:
        return jsonld.to_rdf(doc, {**_OPTIONS, "format": "application/n-quads"})
    except JsonLdError as exc:
        raise _unwrap(exc) from None


def canonicalize(doc: Any) -> str:
    """RDF Dataset Canonicalization (URDNA2015) as N-Quads: what LD proofs hash."""
    try:
        dataset = jsonld.to_rdf(doc, dict(_OPTIONS))
    except JsonLdError as exc:
        raise _unwrap(exc) from None
    return canonical_nquads(dataset)


def to_graph(doc: Any) -> Graph:
    """An rdflib Graph (default and named graphs merged) for SHACL validation, built from
    pyld's dataset directly rather than through an N-Quads text round trip."""
    try:
        dataset = jsonld.to_rdf(doc, dict(_OPTIONS))
    except JsonLdError as exc:
        raise _unwrap(exc) from None
    graph = Graph()
    blanks: dict[str, BNode] = {}  # fresh per call: pyld's labels repeat across documents
    for triples in dataset.values():
        for t in triples:
            graph.add((_term(t["subject"], blanks), _term(t["predicate"], blanks), _term(t["object"], blanks)))
    return graph


def _term(node: dict[str, Any], blanks: dict[str, BNode]) -> Node:
    value = node["value"]
    if node["type"] == "IRI":
        return URIRef(value)
    if node["type"] == "blank node":
        return blanks.setdefault(value, BNode())
    datatype = node.get("datatype")
    if datatype == _LANG_STRING:
        return Literal(value, lang=node.get("language"))
    # a plain string, as an N-Quads parser would give it (rdflib tells "a" from "a"^^xsd:string)
    return Literal(value, datatype=None if datatype in (None, _XSD_STRING) else URIRef(datatype))
