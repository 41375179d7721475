"""Importing DCAT / DCAT-AP files: real CKAN exports, idempotency, rejection reasons, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.catalog import formats
from connector.catalog.service import CatalogService
from connector.catalog.store import InMemoryCatalogStore
from connector.errors import ConnectorError, Reason

EXAMPLES = Path("/work/shared/specs/dcat-ap/examples")
if not EXAMPLES.is_dir():  # the repository's copy of the specs
    EXAMPLES = Path(__file__).resolve().parents[3] / "specs" / "dcat-ap" / "examples"

GOOD_AND_BAD = b"""
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://d.example/ok> a dcat:Dataset ; dct:title "Ok"@en ; dct:description "fine" ;
    dcat:distribution [ a dcat:Distribution ; dcat:accessURL <https://d.example/ok.csv> ;
                        dcat:byteSize "12.0"^^<http://www.w3.org/2001/XMLSchema#decimal> ] .
<https://d.example/no-description> a dcat:Dataset ; dct:title "No description" .
<https://d.example/also-ok> a dcat:Dataset ; dct:title "A" ; dct:description "d" .
"""


@pytest.fixture
def service(tmp_path):
    return CatalogService(InMemoryCatalogStore(), home=tmp_path, did="did:web:p.example",
                          public_url="https://p.example", allowed_roots=[tmp_path])


@pytest.mark.parametrize("name,count", [
    ("ckanext-dcat-dataset_gob_es.ttl", 1), ("ckanext-dcat-dataset_gov_de.rdf", 1),
    ("ckanext-dcat-catalog.rdf", 2), ("ckanext-dcat-dataset_sweden.rdf", 1),
    ("ckanext-dcat-catalog_with_at_graph.jsonld", 1),
])
async def test_real_ckan_exports_import_with_warnings_and_reimport_changes_nothing(service, name, count):
    data = (EXAMPLES / name).read_bytes()
    first = await service.import_dcat(data, name)
    assert len(first.created) == count and not first.rejected
    assert first.warnings  # real records violate the strict shapes: reported, not fatal
    again = await service.import_dcat(data, name)
    assert len(again.unchanged) == count and not again.created and not again.updated
    assert len(await service.list()) == count


async def test_a_dataset_missing_a_mandatory_property_is_rejected_with_the_reason(service):
    report = await service.import_dcat(GOOD_AND_BAD, "mixed.ttl")
    assert sorted(report.created) == ["https://d.example/also-ok", "https://d.example/ok"]
    [rejected] = report.rejected
    assert rejected.iri == "https://d.example/no-description"
    assert any("description" in r for r in rejected.reasons)
    ok = (await service.store.get_by_iri("https://d.example/ok"))
    assert ok.distributions[0].byte_size == 12 and ok.title == "Ok"


async def test_a_changed_record_is_updated_in_place(service):
    await service.import_dcat(GOOD_AND_BAD, "a.ttl")
    report = await service.import_dcat(GOOD_AND_BAD.replace(b'"fine"', b'"finer"'), "a.ttl")
    assert report.updated == ["https://d.example/ok"] and len(report.unchanged) == 1


@pytest.mark.parametrize("data,name", [
    (b"<https://a.example/x> <https://a.example/p> .", "bad.ttl"),
    (b"<rdf:RDF", "bad.rdf"),
    (b'{"@context": "https://unknown.example/ctx.jsonld", "@id": "x"}', "remote.jsonld"),
    (b"{not json", "bad.jsonld"),
    (b"<https://a.example/x> a <https://a.example/Thing> .", "nodataset.ttl"),
])
async def test_bad_files_get_a_clear_error_and_change_nothing(service, data, name):
    with pytest.raises(ConnectorError) as caught:
        await service.import_dcat(data, name)
    assert caught.value.reason is Reason.BAD_INPUT and str(caught.value)
    assert await service.list() == []


@pytest.mark.parametrize("data,name,said", [
    (b"this is not rdf\njust words\n", "garbage.txt", "the format of garbage.txt is not recognised"),
    (b'@prefix x: <http://x.example/> .\nx:a x:b x:c .\nx:a x:b "unterminated .\n', "bad.ttl",
     "bad.ttl is not valid Turtle (Parser error between line 3"),
    (b"<rdf:RDF", "bad.rdf", "bad.rdf is not valid RDF/XML (line 1"),
])
async def test_a_bad_file_is_explained_with_the_accepted_formats(service, data, name, said):
    with pytest.raises(ConnectorError) as caught:
        await service.import_dcat(data, name)
    message = str(caught.value)
    assert message.startswith(said), message
    assert "\n" not in message and message.endswith(formats.ACCEPTED)


def billion_laughs(levels: int) -> bytes:
    """A dataset whose title is one entity that expands to 3 * 10**LEVELS bytes."""
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ {" ".join(entities)} ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#"
         xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="https://d.example/lol">
    <dct:title>&lol{levels};</dct:title><dct:description>laughs</dct:description>
  </dcat:Dataset>
</rdf:RDF>""".encode()


async def test_xml_entities_are_refused_before_anything_expands_them(service):
    import resource
    import time

    bomb = billion_laughs(7)  # 900 bytes that pyoxigraph would expand to 30 MB (9 levels: 3 GB)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ConnectorError) as caught:
        await service.import_dcat(bomb, "laughs.rdf")
    assert caught.value.reason is Reason.BAD_INPUT and "declares XML entities" in str(caught.value)
    assert time.perf_counter() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 20_000  # KiB
    assert await service.list() == []
    # an external entity or DTD is refused the same way (and never fetched)
    external = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&e;</rdf:RDF>"""
    with pytest.raises(ConnectorError, match="declares XML entities"):
        await service.import_dcat(external, "external.rdf")


async def test_oversized_files_are_refused(service, monkeypatch):
    monkeypatch.setattr("connector.catalog.service.MAX_IMPORT_BYTES", 10)
    with pytest.raises(ConnectorError) as caught:
        await service.import_dcat(GOOD_AND_BAD, "x.ttl")
    assert caught.value.reason is Reason.TOO_LARGE


@pytest.mark.parametrize("name", [
    "ckanext-dcat-dataset_gob_es.ttl", "ckanext-dcat-dataset_gov_de.rdf", "ckanext-dcat-catalog.rdf",
    "ckanext-dcat-dataset_sweden.rdf", "semic-3.0.1-example-bee-population.ttl",
])
def test_grouping_by_structure_finds_what_validating_the_whole_file_finds(name):
    """The importer validates one dataset per structure; that must not change any verdict."""
    from datetime import UTC, datetime

    from rdflib.namespace import DCAT

    from connector.catalog import dcat, importer
    from vocab.shacl import registry

    data = (EXAMPLES / name).read_bytes()
    graph = importer.parse(data, formats.format_of(name, data))
    _, report = importer.check(graph, "did:web:p.example", lambda iri: (), datetime.now(UTC))
    whole = registry().validate(graph, importer.SHAPES)
    for node in dcat.dataset_nodes(graph):
        roles = {str(node): "dataset", **{str(d): "distribution" for d in graph.objects(node, DCAT.distribution)}}
        roles.update({f"_:{k}": v for k, v in list(roles.items())})  # blank nodes, as reported
        expected = sorted({
            importer._Finding(r.severity, roles[r.focus_node], r.path or "", r.constraint or "", r.source_shape or "").line()
            for r in whole.results if r.focus_node in roles
        })
        iri = dcat.dataset_iri(graph, node)
        assert expected and sorted(set(report.warnings.get(iri, []))) == expected, iri
