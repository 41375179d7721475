"""Stable blank-node labels: the same source parsed twice gives the same triples, different
subtrees stay apart, identical ones under one parent merge, and cycles do not hang."""

from __future__ import annotations

import pyoxigraph as ox

from connector.crawler.blanks import stable
from connector.crawler.rdf import jsonld_triples

DSP = "https://w3id.org/dspace/2025/1/context.jsonld"


def offer(*purposes: str) -> dict:
    return {"@context": [DSP], "@id": "http://p.example/catalog", "@type": "Catalog",
            "dataset": [{"@id": "http://p.example/d", "@type": "Dataset", "hasPolicy": [{
                "@id": "urn:offer:1", "@type": "Offer",
                "permission": [{"action": "use", "constraint": [{
                    "leftOperand": "purpose", "operator": "eq", "rightOperand": p}]}
                    for p in purposes]}]}]}


def test_two_parses_give_the_same_triples() -> None:
    first = jsonld_triples(offer("a", "b"), "http://p.example/", 1000)
    second = jsonld_triples(offer("a", "b"), "http://p.example/", 1000)
    assert set(first) != set(second)  # the parser's own labels differ
    assert set(stable(first)) == set(stable(second))


def test_different_subtrees_stay_apart_and_identical_ones_merge() -> None:
    two = jsonld_triples(offer("a", "b"), "http://p.example/", 1000)
    assert len(stable(two)) == len(two)
    same = jsonld_triples(offer("a", "a"), "http://p.example/", 1000)
    merged = stable(same)
    permissions = {t.object for t in merged if t.predicate.value.endswith("/permission")}
    assert len(permissions) == 1 and len(merged) < len(same)


def test_a_change_deep_in_a_subtree_changes_only_that_subtree() -> None:
    before = set(stable(jsonld_triples(offer("a", "b"), "http://p.example/", 1000)))
    after = set(stable(jsonld_triples(offer("a", "c"), "http://p.example/", 1000)))
    assert 0 < len(before - after) < len(before) // 2


def test_a_blank_node_cycle_does_not_hang() -> None:
    a, b, p = ox.BlankNode("a"), ox.BlankNode("b"), ox.NamedNode("http://p.example/p")
    out = stable([ox.Triple(a, p, b), ox.Triple(b, p, a)])
    assert len(out) == 2
