"""A DSP catalog read dataset by dataset gives the graph a whole parse gives, and converts only
the datasets it has not seen; a page naming blank nodes is parsed whole every time."""

from __future__ import annotations

import copy

from bench.bench_catalog import synthetic
from connector.catalog import codec
from connector.crawler.blanks import stable
from connector.crawler.pieces import DatasetPieces
from connector.crawler.rdf import jsonld_triples
from tests.unit.crawler.test_blanks import offer

BASE = "http://p.example/dsp"


def catalog(n: int) -> dict:
    """A page as the node's DSP codec builds it (context, offers, distributions)."""
    datasets = [synthetic(i) for i in range(n)]
    return codec.catalog_json(datasets, catalog_id="http://p.example/catalog",
                              participant="did:web:p.example", service_id=BASE, endpoint=BASE)


def whole(doc: dict) -> set:
    return set(stable(jsonld_triples(doc, BASE, 10**6)))


def test_pieces_give_what_a_whole_parse_gives() -> None:
    doc = catalog(20)
    pieces = DatasetPieces()
    assert set(pieces.page(copy.deepcopy(doc), BASE, 10**6)) == whole(doc)
    assert len(pieces.known) == 20
    assert set(pieces.page(copy.deepcopy(doc), BASE, 10**6)) == whole(doc)


def test_only_new_datasets_are_converted(monkeypatch) -> None:
    doc = catalog(20)
    pieces = DatasetPieces()
    pieces.page(copy.deepcopy(doc), BASE, 10**6)
    parsed: list[str] = []
    real = pieces._node

    def counting(context, key, node, base, cap):
        parsed.append(node["@id"])
        return real(context, key, node, base, cap)

    monkeypatch.setattr(pieces, "_node", counting)
    changed = copy.deepcopy(doc)
    changed["dataset"][3]["dct:title"] = "Renamed"
    del changed["dataset"][5]
    pieces.start()
    got = set(pieces.page(changed, BASE, 10**6))
    pieces.finish()
    assert got == whole(changed)
    assert parsed == ["http://p.example/catalog", changed["dataset"][3]["@id"]]  # the skeleton, the renamed one
    assert len(pieces.known) == 19


def test_a_node_two_datasets_describe_alike_is_remembered_with_each() -> None:
    doc = offer("a")
    twin = copy.deepcopy(doc["dataset"][0])
    twin["@id"] = "http://p.example/d2"
    doc["dataset"].append(twin)  # both describe urn:offer:1 the same way
    pieces = DatasetPieces()
    assert set(pieces.page(copy.deepcopy(doc), BASE, 10**6)) == whole(doc)
    assert len(pieces.known) == 2
    assert set(pieces.page(copy.deepcopy(doc), BASE, 10**6)) == whole(doc)


def test_a_node_two_datasets_describe_differently_has_both_descriptions() -> None:
    doc = offer("a")
    twin = copy.deepcopy(offer("b")["dataset"][0])
    twin["@id"] = "http://p.example/d2"
    doc["dataset"].append(twin)  # urn:offer:1 with purpose a, and with purpose b
    pieces = DatasetPieces()
    assert set(pieces.page(copy.deepcopy(doc), BASE, 10**6)) == whole(doc)
    doc["dataset"][1] = copy.deepcopy(doc["dataset"][0]) | {"@id": "http://p.example/d2"}
    assert set(pieces.page(copy.deepcopy(doc), BASE, 10**6)) == whole(doc)  # purpose b gone


def test_a_page_naming_blank_nodes_is_parsed_whole_and_not_remembered() -> None:
    doc = offer("a")
    twin = copy.deepcopy(doc["dataset"][0])
    twin["@id"] = "http://p.example/d2"
    doc["dataset"].append(twin)
    for d in doc["dataset"]:  # both datasets point at one blank node, by its label
        d["dct:publisher"] = {"@id": "_:agent"}
    doc["dataset"][0]["dct:creator"] = {"@id": "_:agent", "foaf:name": "A"}
    pieces = DatasetPieces()
    assert set(pieces.page(copy.deepcopy(doc), BASE, 10**6)) == whole(doc)
    assert pieces.known == {}


def test_a_node_many_datasets_share_is_not_multiplied() -> None:
    doc = catalog(300)  # every synthetic dataset describes the same offer
    pieces = DatasetPieces()
    got = pieces.page(copy.deepcopy(doc), BASE, 10**6)
    assert set(stable(got)) == whole(doc) and len(got) == len(whole(doc))
    assert max(len(p) for p in pieces.known.values()) < 30
