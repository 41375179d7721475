"""RDF Dataset Canonicalization (URDNA2015 / RDFC-1.0) with a bound on its work.

Canonicalization is exponential on "poison" graphs whose blank nodes cannot be told apart
(a few kilobytes of blank nodes that all point at each other keep a core busy for minutes),
and it runs on documents that unauthenticated callers send. RDFC-1.0 lets an implementation
limit its deep iterations; this one bounds both the N-degree hash calls (per blank node) and
the size of a group of indistinguishable related blank nodes (whose permutations it tries),
and refuses the document beyond them. Real credentials and self-descriptions stay far below:
their blank nodes are few and told apart by their own triples.
"""

from __future__ import annotations

from typing import Any

from pyld.canon import URDNA2015

from vocab.errors import VocabError, VocabReason

CALLS_PER_BLANK_NODE = 8
MAX_TIED_RELATED = 5  # 5! = 120 permutations tried in one call at most


def _too_complex() -> VocabError:
    return VocabError(VocabReason.MALFORMED_JSONLD, "the document's blank nodes are too "
                      "alike to canonicalize in bounded time (a poison graph?)")


class _Bounded(URDNA2015):  # type: ignore[misc]
    def __init__(self, blank_nodes: int) -> None:
        super().__init__()
        self.calls_left = CALLS_PER_BLANK_NODE * blank_nodes + 64

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self.calls_left -= 1
        if self.calls_left < 0:
            raise _too_complex()
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> dict[str, list[str]]:
        related: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        if any(len(nodes) > MAX_TIED_RELATED for nodes in related.values()):
            raise _too_complex()
        return related


def canonical_nquads(dataset: dict[str, Any]) -> str:
    """The canonical N-Quads of a pyld RDF dataset (`to_rdf` without a format)."""
    blank_nodes = {term["value"] for triples in dataset.values() for triple in triples
                   for term in (triple["subject"], triple["object"])
                   if term["type"] == "blank node"}
    blank_nodes |= {name for name in dataset if name.startswith("_:")}
    nquads: str = _Bounded(len(blank_nodes)).main(dataset, {"format": "application/n-quads"})
    return nquads
