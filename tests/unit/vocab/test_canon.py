"""Canonicalization is bounded: a poison graph (blank nodes that cannot be told apart) is
refused at once instead of holding a core for minutes, and ordinary documents canonicalize
exactly as URDNA2015 says."""

from __future__ import annotations

import time

import pytest
from pyld import jsonld

from connector.identity.ldp import canonical_strict
from vocab.errors import VocabError
from vocab.jsonld import canonicalize
from vocab.loader import document_loader

CONTEXT = {"@vocab": "urn:example:"}


def clique(n: int) -> dict:
    """N blank nodes each pointing at every other: 7 took 11 s unbounded, 8 over a minute."""
    nodes = [{"@id": f"_:b{i}", "knows": [{"@id": f"_:b{j}"} for j in range(n) if j != i]}
             for i in range(n)]
    return {"@context": CONTEXT, "@graph": nodes}


@pytest.mark.parametrize("canon", [canonical_strict, canonicalize])
@pytest.mark.parametrize("n", [7, 12, 40])
def test_a_poison_graph_is_refused_at_once(canon, n):
    started = time.perf_counter()
    with pytest.raises(VocabError, match="too alike to canonicalize"):
        canon(clique(n))
    assert time.perf_counter() - started < 1.0


def test_documents_with_a_few_alike_blank_nodes_give_the_reference_result():
    # two identical addresses and a small ring: tied blank nodes that a bound must allow
    doc = {"@context": CONTEXT, "@graph": [
        {"@id": "urn:x:org", "legalAddress": {"city": "Lyon"}, "seat": {"city": "Lyon"}},
        {"@id": "_:r0", "next": {"@id": "_:r1"}}, {"@id": "_:r1", "next": {"@id": "_:r2"}},
        {"@id": "_:r2", "next": {"@id": "_:r0"}}]}
    reference = jsonld.normalize(doc, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                       "documentLoader": document_loader})
    assert canonicalize(doc) == reference
    assert canonical_strict(doc) == reference
