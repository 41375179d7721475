"""Documents to triples: bundled contexts inlined, remote ones refused (never fetched), bad
JSON-LD and bad JSON a sentence, and the triple cap enforced."""

from __future__ import annotations

import json

import pytest

from connector.crawler.rdf import RdfProblem, document_triples, jsonld_triples, small_jsonld_triples

DSP = "https://w3id.org/dspace/2025/1/context.jsonld"


def test_a_dsp_catalog_reads_with_the_bundled_context() -> None:
    doc = {"@context": [DSP], "@id": "http://p.example/catalog", "@type": "Catalog",
           "dataset": [{"@id": "http://p.example/d/1", "@type": "Dataset", "dct:title": "One"}]}
    triples = jsonld_triples(doc, "http://p.example/dsp", 100)
    found = {(t.subject.value, t.predicate.value, t.object.value) for t in triples}
    assert ("http://p.example/d/1", "http://purl.org/dc/terms/title", "One") in found
    assert ("http://p.example/d/1", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            "http://www.w3.org/ns/dcat#Dataset") in found


@pytest.mark.parametrize("reader", [jsonld_triples, small_jsonld_triples])
def test_a_remote_context_is_refused_not_fetched(reader) -> None:
    # a port nothing listens on: a fetch would fail differently (and slowly)
    doc = {"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://a.example/", "b": 1}
    with pytest.raises(RdfProblem, match="not bundled|will not be fetched"):
        reader(doc, "http://a.example/", 100)


def test_a_remote_context_nested_in_a_node_is_refused_too() -> None:
    doc = {"@context": {"@vocab": "http://v.example/"}, "@id": "http://a.example/",
           "b": {"@context": "http://127.0.0.1:9/ctx", "c": 1}}
    with pytest.raises(RdfProblem, match="not bundled"):
        jsonld_triples(doc, "http://a.example/", 100)


@pytest.mark.parametrize("body", [
    b'{"@context": 5, "@id": "http://a.example/"}',
    b'{"@context": {"@vocab": "http://v.example/"}, "@id": "http://a.example/", "@type": 7}',
])
def test_malformed_jsonld_is_a_sentence(body: bytes) -> None:
    with pytest.raises(RdfProblem, match="not valid JSON-LD"):
        document_triples(body, "application/ld+json", "http://a.example/", 100)


def test_bad_json_and_deep_nesting_are_refused() -> None:
    with pytest.raises(RdfProblem, match="not valid JSON"):
        document_triples(b"{nope", "application/json", "http://a.example/", 100)
    deep = ("[" * 5000 + "]" * 5000).encode()
    with pytest.raises(RdfProblem):
        document_triples(deep, "application/ld+json", "http://a.example/", 100)


def test_the_triple_cap_stops_parsing() -> None:
    lines = "".join(f"<http://a.example/{n}> <http://p.example/> \"{n}\" .\n" for n in range(50))
    assert len(document_triples(lines.encode(), "application/n-triples", "http://a/", 50)) == 50
    with pytest.raises(RdfProblem, match="more than 49 triples"):
        document_triples(lines.encode(), "application/n-triples", "http://a/", 49)
    doc = {"@context": {"@vocab": "http://v.example/"},
           "@graph": [{"@id": f"http://a.example/{n}", "p": n} for n in range(20)]}
    with pytest.raises(RdfProblem, match="more than 10 triples"):
        jsonld_triples(json.loads(json.dumps(doc)), "http://a.example/", 10)


def test_an_unknown_media_type_is_refused() -> None:
    with pytest.raises(RdfProblem, match="not an RDF format"):
        document_triples(b"<html/>", "text/html", "http://a/", 10)
