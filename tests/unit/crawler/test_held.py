"""A catalog cut into the catalog's own triples and each dataset's, and held so that changing
some datasets yields exactly what the graph gains and loses."""

from __future__ import annotations

import pyoxigraph as ox

from connector.crawler.held import BASE, Held, split

DOC = b"""
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<http://p.example/catalog> a dcat:Catalog ; dct:publisher <did:web:p.example> ;
    dcat:dataset <http://p.example/d1>, <http://p.example/d2> .
<did:web:p.example> dct:title "P" .
<http://p.example/d1> a dcat:Dataset ; dct:publisher <did:web:p.example> ;
    dcat:distribution <http://p.example/d1#csv> ; dct:temporal [ dcat:startDate "2026" ] .
<http://p.example/d1#csv> dcat:mediaType "text/csv" .
<http://p.example/d2> a dcat:Dataset ; dct:publisher <did:web:p.example> ;
    dct:relation <http://p.example/d1> .
"""
D1, D2 = "http://p.example/d1", "http://p.example/d2"


def triples() -> list[ox.Triple]:
    return [q.triple for q in ox.parse(DOC, ox.RdfFormat.TURTLE)]


def test_each_dataset_gets_what_it_reaches_and_what_points_at_it() -> None:
    all_ = triples()
    base, pieces = split(all_, [D1, D2])
    d1 = {str(t) for t in pieces[D1]}
    assert any("d1#csv" in t and "mediaType" in t for t in d1)  # a described named node
    assert any("startDate" in t for t in d1)  # a blank node
    assert any("catalog" in t and "dataset" in t for t in d1)  # its link from the catalog
    assert not any("d2" in t for t in d1 if "relation" not in t)
    d2 = {str(t) for t in pieces[D2]}
    assert any("relation" in t for t in d2)  # d2 points at d1: in d2's piece (and d1's)
    assert not any("mediaType" in t for t in d2)  # never reaches into d1
    assert any('"P"' in str(t) for t in base) and any('"P"' in t for t in d2)  # the publisher: both
    assert set(base).union(*map(set, pieces.values())) == set(all_)
    assert not any(t.object in (ox.NamedNode(D1), ox.NamedNode(D2)) and "dataset" in str(t.predicate)
                   for t in base)


def test_changes_come_out_as_what_the_graph_lost_and_gained() -> None:
    all_ = triples()
    base, pieces = split(all_, [D1, D2])
    held = Held()
    held.put(BASE, base)
    for iri, piece in pieces.items():
        held.put(iri, piece)
    whole = set(held.triples())
    assert whole == set(all_)
    held.put(D2, pieces[D2])  # the same again
    assert held.delta() == ([], [])
    held.drop(D2)
    gone, new = held.delta()
    assert new == [] and {str(t) for t in gone} >= {f"<{D2}> <http://purl.org/dc/terms/relation> <{D1}>"}
    assert all("p.example/d2" in str(t) for t in gone)  # the publisher d1 and the catalog name stays
    changed = [t for t in pieces[D1] if "mediaType" not in str(t.predicate)]
    changed.append(ox.Triple(ox.NamedNode(D1 + "#csv"), ox.NamedNode("http://www.w3.org/ns/dcat#mediaType"),
                             ox.Literal("text/plain")))
    held.put(D1, changed)
    gone, new = held.delta()
    assert [str(t.object) for t in gone] == ['"text/csv"'] and [str(t.object) for t in new] == ['"text/plain"']
    assert set(held.triples()) == (whole - {t for t in pieces[D2] if t not in pieces[D1] and t not in base}
                                   - set(gone)) | set(new)
