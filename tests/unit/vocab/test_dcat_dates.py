"""The corrective DCAT-AP 3.0.1 date shapes (vocab/shapes/dcat-ap-3.0.1-communs-dates.ttl):
the upstream files alone check no dataset date (they use `sh:shape`, which is no SHACL term);
with ours, the "dcat-ap-3.0.1" set does, pre-selection gives what full validation gives, and
the compiled-shapes cache of the old set is not reused."""

from __future__ import annotations

import pyshacl
import pytest
from rdflib import Graph
from rdflib.namespace import SH

from vocab import shacl
from vocab.shacl.cache import _fingerprint
from vocab.shacl.sets import SHAPE_SETS, ShapeSetSpec, shape_file

OURS = "dcat-ap-3.0.1-communs-dates.ttl"
DCT = "http://purl.org/dc/terms/"
DATASET = """
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://d.example/a> a dcat:Dataset ; dct:title "A"@en ; dct:description "d"@en ;
    dct:issued {issued} ; dct:modified {modified} ;
    dct:temporal [ a dct:PeriodOfTime ; dcat:startDate {issued} ; dcat:endDate {modified} ] .
<https://d.example/r> a dcat:CatalogRecord ; dct:modified {modified} ;
    <http://xmlns.com/foaf/0.1/primaryTopic> <https://d.example/a> .
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> shacl.ShapesRegistry:
    return shacl.ShapesRegistry(tmp_path_factory.mktemp("cache"))


def _graph(issued: str, modified: str) -> Graph:
    text = DATASET.replace("{issued}", issued).replace("{modified}", modified)
    return Graph().parse(data=text, format="turtle")


def _ours(results) -> set[tuple[str, str]]:
    """(focus kind, path) of the results our shapes give: dataset, record or period."""
    kinds = {"https://d.example/a": "dataset", "https://d.example/r": "record"}
    return {
        (kinds.get(r.focus_node, "period"), r.path.rsplit("/", 1)[-1].rsplit("#", 1)[-1])
        for r in results
        if r.source_shape.startswith("https://w3id.org/communs/")
    }


ALL_DATES = {("dataset", "issued"), ("dataset", "modified"), ("record", "modified"),
             ("period", "startDate"), ("period", "endDate")}


def test_our_file_is_in_the_set_and_names_the_upstream_defect():
    assert OURS in SHAPE_SETS["dcat-ap-3.0.1"].files
    header = shape_file(OURS).decode().split("@prefix", 1)[0]
    assert "sh:shape" in header and "Upstream defect" in header and "729eddf" in header


def test_the_upstream_shapes_alone_miss_a_malformed_date():
    upstream = Graph()
    for name in SHAPE_SETS["dcat-ap-3.0.1"].files:
        if name != OURS:
            upstream.parse(data=shape_file(name).decode(), format="turtle")
    data = _graph('"yesterday"', '"2024-13-45"^^<http://www.w3.org/2001/XMLSchema#date>')
    _, graph, _ = pyshacl.validate(data, shacl_graph=upstream)
    paths = {
        str(graph.value(result, SH.resultPath))
        for result in graph.subjects(SH.resultSeverity, SH.Violation)
    }
    assert not paths & {DCT + "issued", DCT + "modified"}  # the defect this file corrects


@pytest.mark.parametrize(("issued", "modified"), [
    ('"yesterday"', '"2024-13-45"^^xsd:date'),
    ('"2024-01-02"^^xsd:string', '"12/03/2026"'),
    ('<https://d.example/date>', '"abc"^^xsd:dateTime'),
])
def test_malformed_dates_are_violations_everywhere_upstream_meant(registry, issued, modified):
    graph = _graph(issued, modified)
    report = registry.validate(graph, "dcat-ap-3.0.1")
    assert _ours(report.results) == ALL_DATES
    ours = [r for r in report.results if r.source_shape.startswith("https://w3id.org/communs/")]
    assert {r.severity for r in ours} == {"Violation"}
    assert "dct:issued must be an xsd:date, xsd:dateTime, xsd:gYear or xsd:gYearMonth" in {
        r.message for r in ours}
    assert _ours(registry.validate(graph, "dcat-ap-3.0.1", preselect=False).results) == ALL_DATES


@pytest.mark.parametrize("value", ['"2024-01-02"^^xsd:date', '"2024-01-02T10:00:00+01:00"^^xsd:dateTime',
                                   '"2024"^^xsd:gYear', '"2024-05"^^xsd:gYearMonth'])
def test_every_date_form_dcat_ap_allows_passes(registry, value):
    report = registry.validate(_graph(value, value), "dcat-ap-3.0.1")
    assert _ours(report.results) == set(), report.results


def test_the_compiled_cache_of_the_set_changes_with_the_file_list():
    """The cache key hashes every file of a set: adding ours recompiles, no version bump needed."""
    spec = SHAPE_SETS["dcat-ap-3.0.1"]
    without = ShapeSetSpec(tuple(n for n in spec.files if n != OURS), spec.rewrites)
    assert _fingerprint(spec) != _fingerprint(without)
