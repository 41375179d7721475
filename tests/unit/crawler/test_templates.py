"""A node read through a template gives exactly what parsing it gives (blank nodes labelled
stably), whatever its values; a shape seen before costs no parse; what a template cannot
stand for is left to the parser (None)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from connector.catalog import codec
from connector.crawler.blanks import stable
from connector.crawler.rdf import jsonld_triples
from connector.crawler.templates import Templates
from tests.unit.crawler.test_pieces import BASE, catalog

DSP = ["https://w3id.org/dspace/2025/1/context.jsonld"]
EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "specs" / "dsp" / "2025-1" / "catalog" / "example"


def parsed(context, node: dict) -> set:
    return set(stable(jsonld_triples({"@context": context, "@graph": [node]}, BASE, 10**6)))


def through(templates: Templates, context, node: dict):
    got = templates.triples(context, json.dumps(context, sort_keys=True), node, BASE, 10**6)
    return None if got is None else set(stable(got))


def test_the_datasets_of_a_catalog_read_through_two_templates() -> None:
    templates = Templates()
    for d in catalog(200)["dataset"]:
        assert through(templates, DSP, d) == parsed(DSP, d)
    assert templates.parsed <= 2  # the shape, then the shape with the offer's action in it


def test_paid_and_restricted_offers_read_alike() -> None:
    offer = codec.offer_text({"@id": "urn:uuid:p", "@type": "Offer", "assigner": "did:web:p.example",
                              "permission": [{"action": "use", "duty": [{
                                  "action": "compensate", "constraint": [{
                                      "leftOperand": "payAmount", "operator": "eq",
                                      "rightOperand": {"@value": "12.5", "@type": "xsd:decimal"},
                                      "unit": "https://w3id.org/communs/ucom"}]}]}]})
    doc = catalog(3)
    templates = Templates()
    for n, d in enumerate(doc["dataset"]):
        d["hasPolicy"] = [json.loads(offer) | {"@id": f"urn:uuid:p{n}"}]
        assert through(templates, DSP, d) == parsed(DSP, d)


@pytest.mark.parametrize("name", ["catalog.json", "nested-catalog.json"])
def test_the_dsp_specification_examples(name: str) -> None:
    doc = json.loads((EXAMPLES / name).read_text())
    templates = Templates()
    nodes = [{k: v for k, v in doc.items() if k != "@context"}, *doc.get("dataset", [])]
    for node in nodes:
        got = through(templates, doc["@context"], node)
        assert got is None or got == parsed(doc["@context"], node)


def variants() -> list[dict]:
    """One dataset, its values varied where a parser might do something else than copy."""
    base = catalog(1)["dataset"][0]
    out = []
    for value in ["https://e.example/a", "urn:x:1", "did:web:e.example", "relative/path", "#frag",
                  "../up", "https://e.example/a/../b", "https://e.example/./b", "dct:title",
                  "odrl:use", "http://www.w3.org/ns/odrl/2/use", "use", "_:b1", "", "not an iri",
                  "HTTPS://E.EXAMPLE/X", "mailto:x@e.example", "a b", "urn:x-communs-slot:0"]:
        for path in (("@id",), ("dct:license", "@id"), ("distribution", 0, "accessService"),
                     ("hasPolicy", 0, "permission", 0, "action"), ("dct:title",),
                     ("distribution", 0, "format"), ("dcat:keyword", 1)):
            d = copy.deepcopy(base)
            at = d
            for step in path[:-1]:
                at = at[step]
            at[path[-1]] = value
            out.append(d)
    odd = copy.deepcopy(base)
    odd["dct:title"] = {"@value": "Titre", "@language": "fr"}
    odd["dcat:byteSize"] = 12
    odd["dcat:spatialResolutionInMeters"] = 1.5
    odd["dct:conformsTo"] = {"@value": {"a": ["x", 1]}, "@type": "@json"}
    odd["dct:issued"] = {"@value": "2026-01-01", "@type": "xsd:date"}
    odd["dcat:version"] = True
    odd["dct:relation"] = {"@list": ["https://e.example/1", "two"]}
    out += [odd, odd | {"dcat:byteSize": 10**16}, odd | {"dcat:byteSize": -3},
            odd | {"@type": ["Dataset", "urn:x-communs-slot:0"]}]
    return out


def test_values_a_parser_would_change_are_never_copied() -> None:
    templates = Templates()
    for d in variants():
        got = through(templates, DSP, d)
        assert got is None or got == parsed(DSP, d), json.dumps(d)[:300]


def test_a_context_where_placeholders_would_not_read_as_iris_is_left_to_the_parser() -> None:
    context = DSP + [{"urn": "https://e.example/urn#"}]
    assert through(Templates(), context, catalog(1)["dataset"][0]) is None


def test_templates_are_bounded() -> None:
    templates = Templates(max_templates=4)
    for n in range(10):
        d = catalog(1)["dataset"][0] | {"dcat:keyword": ["k"] * (n + 1)}  # ten shapes
        assert through(templates, DSP, d) == parsed(DSP, d)
    assert len(templates._cache) <= 4
