"""JSON-LD helpers that always use the offline loader.

RDF is produced by pyld (never by rdflib's JSON-LD parser, which fetches remote contexts).
"""

from __future__ import annotations

import json
from typing import Any

from pyld import jsonld
from pyld.jsonld import JsonLdError

from vocab.errors import VocabError, VocabReason
from vocab.loader import document_loader

_OPTIONS: dict[str, Any] = {"documentLoader": document_loader}


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
        return jsonld.normalize(
            doc, {**_OPTIONS, "algorithm": "URDNA2015", "format": "application/n-quads"}
        )
    except JsonLdError as exc:
        raise _unwrap(exc) from None


def to_graph(doc: Any):  # -> rdflib.Graph
    """An rdflib Graph (default graph + named graphs merged) for SHACL validation."""
    from rdflib import Dataset, Graph

    dataset = Dataset()
    dataset.parse(data=to_nquads(doc), format="nquads")
    graph = Graph()
    for s, p, o, _ in dataset.quads():
        graph.add((s, p, o))
    return graph
