"""The embedded store's patch: a graph rewritten with a few triples changed holds exactly the
new triples afterwards, blank node labels included (the next crawl's comparison relies on
them), and a graph mostly new is replaced whole."""

from __future__ import annotations

import pyoxigraph as ox

from connector.crawler.store import EmbeddedStore
from connector.sparql.store import RdfStore

G = "urn:communs:federation:dcat:did:web:example.org"
P = ox.NamedNode("http://purl.org/dc/terms/title")


def graph(store: RdfStore) -> set[ox.Triple]:
    return {q.triple for q in store.store.quads_for_pattern(None, None, None, ox.NamedNode(G))}


def triples(n: int, title: str = "t") -> list[ox.Triple]:
    out = []
    for i in range(n):
        d, b = ox.NamedNode(f"https://example.org/d/{i}"), ox.BlankNode(f"s{i:04x}")
        out += [ox.Triple(d, ox.NamedNode("http://www.w3.org/ns/dcat#distribution"), b),
                ox.Triple(b, P, ox.Literal(f'{title} {i} "quoted" .\nnext line'))]
    return out


async def test_a_patch_leaves_exactly_the_new_triples_with_their_blank_labels(tmp_path) -> None:
    rdf = RdfStore.open(tmp_path / "store")
    store = EmbeddedStore(rdf)
    first = triples(50)
    await store.replace(G, first)
    assert graph(rdf) == set(first)
    second = [*first[:-2], *triples(51)[-2:], ox.Triple(ox.NamedNode("https://example.org/d/0"), P,
                                                          ox.Literal("revised"))]
    await store.replace(G, second)
    assert graph(rdf) == set(second)  # the blank nodes kept their labels: s0000...
    third = triples(10, "other")
    await store.replace(G, third)  # mostly new: replaced whole
    assert graph(rdf) == set(third)
    await store.replace(G, [])
    assert graph(rdf) == set()
