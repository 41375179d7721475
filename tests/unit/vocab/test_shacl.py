"""The SHACL registry: named sets, disk cache, shape pre-selection equal to full validation."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from connector.selfdescription import build
from connector.selfdescription.model import Participant
from connector.selfdescription.parse import parse
from vocab import jsonld, shacl
from vocab.errors import VocabError, VocabReason
from vocab.shacl.index import compile_index
from vocab.shacl.sets import turtle_triples

EXAMPLES = Path(__file__).parents[2] / "conformance" / "gaiax" / "examples"
SPECS = Path("/work/shared/specs/gaiax/loire/shapes/gx-25.11.shapes.ns-development.ttl")
GX = "https://w3id.org/gaia-x/2511#"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> shacl.ShapesRegistry:
    return shacl.ShapesRegistry(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def full_graphs() -> dict[str, Graph]:
    """Whole shapes graphs parsed by rdflib (seconds each), shared by the tests below."""
    return {}


def _full(name: str, cache: dict[str, Graph]) -> Graph:
    if name not in cache:
        cache[name] = shacl.full_graph(name)
    return cache[name]


def _participant_graph(drop: str | None = None, **changes: str) -> Graph:
    p = Participant.of("ACME SA", "did:web:acme.example", "BE-BRU", "leiCode:969500KSV493XWY0PS33")
    creds = build.loire_credentials(p, now=NOW)
    creds[build.REGISTRATION_NUMBER]["credentialSubject"].update(changes)
    creds[build.REGISTRATION_NUMBER]["credentialSubject"].pop(drop or "-", None)
    return jsonld.to_graph(build.loire_presentation(p, list(creds.values()), "urn:uuid:1"))


def _key(report: shacl.ValidationReport) -> set[tuple]:
    return {(r.focus_node, r.path, r.constraint) for r in report.results}


def test_named_sets():
    assert shacl.ShapesRegistry.names() == [
        "dcat-ap-3.0.1",
        "gaiax-loire-25.11",
        "gaiax-loire-25.11-development",
        "gaiax-tagus-22.10",
    ]


def test_unknown_set_is_a_vocab_error(registry):
    with pytest.raises(VocabError) as caught:
        registry.get("gaiax-danube")
    assert caught.value.reason is VocabReason.UNKNOWN_SHAPES


def test_sets_are_compiled_once_and_cached_on_disk(registry, tmp_path):
    first = registry.get("gaiax-tagus-22.10")
    assert registry.get("gaiax-tagus-22.10") is first
    files = list((registry.cache_dir / "shacl").glob("gaiax-tagus-22.10-*.pickle"))
    assert len(files) == 1
    warm = shacl.ShapesRegistry(registry.cache_dir)
    started = time.perf_counter()
    assert warm.get("gaiax-tagus-22.10").shape_count == first.shape_count == 20
    assert time.perf_counter() - started < 1.0


def test_a_corrupt_cache_file_is_rebuilt(tmp_path):
    reg = shacl.ShapesRegistry(tmp_path)
    reg.get("dcat-ap-3.0.1")
    (cache_file,) = (tmp_path / "shacl").glob("dcat-ap-3.0.1-*.pickle")
    cache_file.write_bytes(b"not a pickle")
    assert shacl.ShapesRegistry(tmp_path).get("dcat-ap-3.0.1").shape_count > 0


def test_an_unwritable_cache_folder_is_not_fatal(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert shacl.ShapesRegistry(blocker).get("dcat-ap-3.0.1").shape_count > 0


def test_default_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COMMUNS_CACHE", str(tmp_path))
    assert shacl.default_cache_dir() == tmp_path
    monkeypatch.delenv("COMMUNS_CACHE")
    assert shacl.default_cache_dir() == Path.home() / ".cache" / "communs"


def test_concurrent_first_use_compiles_once(tmp_path):
    reg = shacl.ShapesRegistry(tmp_path)
    got: list = []
    threads = [
        threading.Thread(target=lambda: got.append(reg.get("gaiax-tagus-22.10"))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(x) for x in got}) == 1


@pytest.mark.skipif(
    not SPECS.exists(), reason="the upstream development-namespace file is not here"
)
def test_development_variant_is_the_upstream_development_file(full_graphs):
    """One vendored file serves both namespaces: rewriting it gives the upstream copy."""
    ours = _full("gaiax-loire-25.11-development", full_graphs)
    upstream = Graph().parse(SPECS, format="turtle")
    assert len(ours) == len(upstream)
    strip = lambda g: {t for t in g if not any(type(x).__name__ == "BNode" for x in t)}  # noqa: E731
    assert strip(ours) == strip(upstream)


def _reference(graph: Graph, name: str, cache: dict) -> tuple[bool, set[tuple]]:
    conforms, report, _ = pyshacl.validate(graph, shacl_graph=_full(name, cache))
    found = set()
    for r in report.objects(None, SH.result):
        path = report.value(r, SH.resultPath)
        component = str(report.value(r, SH.sourceConstraintComponent)).rsplit("#", 1)[-1]
        found.add((str(report.value(r, SH.focusNode)), str(path) if path else None, component))
    return conforms, found


def test_preselection_gives_the_same_report_as_full_validation(registry, full_graphs):
    """Every example, our own documents and broken ones: same verdict, same results."""
    cases: list[tuple[Graph, str]] = []
    for path in sorted(EXAMPLES.rglob("*.json*")):
        try:
            graph = jsonld.to_graph(parse(path.read_text()).document)
        except VocabError:
            continue  # unbundled contexts: covered by the conformance tests
        name = (
            "gaiax-tagus-22.10"
            if "tagus" in str(path)
            else ("gaiax-loire-25.11-development" if "ascs" in str(path) else "gaiax-loire-25.11")
        )
        cases.append((graph, name))
    cases.append((_participant_graph(), "gaiax-loire-25.11"))
    # broken ones whose results do not cite a huge sh:in list (pySHACL alone would take minutes)
    cases.append((_participant_graph(drop="leiCode", **{GX + "extra": "x"}), "gaiax-loire-25.11"))
    for graph, name in cases:
        mine = registry.validate(graph, name)
        conforms, expected = _reference(graph, name, full_graphs)
        assert mine.conforms == conforms
        assert _key(mine) == expected


def test_selection_keeps_target_node_and_subjects_of_shapes(tmp_path, monkeypatch):
    """Shapes targeted by sh:targetNode are always kept; sh:targetSubjectsOf by predicate."""
    ttl = b"""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:NodeS a sh:NodeShape ; sh:targetNode ex:absent ; sh:class ex:Thing .
        ex:SubjS a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:class ex:Thing .
    """
    ex = "http://example.org/"
    index = compile_index(list(turtle_triples(ttl, 0)))
    data = Graph()
    assert index.select(data) == frozenset({"<http://example.org/NodeS>"})
    data.add((URIRef(ex + "a"), URIRef(ex + "p"), Literal(1)))
    assert "<http://example.org/SubjS>" in index.select(data)
    report = shacl.CompiledShapes("t", index).validate(data)
    assert not report.conforms and {r.focus_node for r in report.results} == {
        ex + "a",
        ex + "absent",
    }


def test_selection_follows_data_subclasses(registry):
    graph = Graph()
    thing = URIRef("urn:x")
    graph.add((thing, RDF.type, URIRef("urn:MyPerson")))
    graph.add(
        (
            URIRef("urn:MyPerson"),
            URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
            URIRef(GX + "LegalPerson"),
        )
    )
    report = registry.validate(graph, "gaiax-loire-25.11")
    assert not report.conforms and GX + "legalAddress" in report.paths()


def test_report_is_a_value(registry):
    report = registry.validate(
        _participant_graph(subdivisionCountryCode="XX-99"), "gaiax-loire-25.11"
    )
    assert not report.conforms
    (result,) = report.results
    assert result.path == GX + "subdivisionCountryCode"
    assert result.value == "XX-99" and result.severity == "Violation"
    assert result.source_shape == GX + "LeiCodeShape"
    assert result.constraint == "InConstraintComponent"
    assert result.focus_node == "did:web:acme.example#registration-number"
    assert len(result.message) <= 300
    assert report.to_json()["results"][0]["path"] == result.path


def test_a_value_outside_a_huge_sh_in_list_is_reported_quickly(registry):
    """pySHACL copies the 5,000-code list into its report quadratically (180 s once)."""
    graph = _participant_graph(subdivisionCountryCode="XX-99")
    registry.validate(graph, "gaiax-loire-25.11")
    started = time.perf_counter()
    assert not registry.validate(graph, "gaiax-loire-25.11").conforms
    assert time.perf_counter() - started < 5


def test_preselected_validation_of_a_participant_is_fast(registry):
    graph = _participant_graph()
    registry.validate(graph, "gaiax-loire-25.11")
    times = []
    for _ in range(15):
        started = time.perf_counter()
        assert registry.validate(graph, "gaiax-loire-25.11").conforms
        times.append(time.perf_counter() - started)
    assert sorted(times)[len(times) // 2] < 0.25  # the target is 50 ms; CI machines are noisy


def test_empty_graph_conforms(registry):
    assert registry.validate(Graph(), "gaiax-loire-25.11").conforms


def test_dcat_ap_sets_load_and_validate(registry):
    graph = Graph()
    dataset = URIRef("http://example.org/ds")
    graph.add((dataset, RDF.type, URIRef("http://www.w3.org/ns/dcat#Dataset")))
    report = registry.validate(graph, "dcat-ap-3.0.1")
    assert not report.conforms
    assert "http://purl.org/dc/terms/description" in report.paths()


def test_a_cache_file_others_can_write_is_not_loaded(tmp_path):
    """The disk cache is a pickle: one that a group or others could have changed is rebuilt."""
    from vocab.shacl import ShapesRegistry

    first = ShapesRegistry(tmp_path)
    first.get("gaiax-tagus-22.10")
    (cache,) = (tmp_path / "shacl").glob("gaiax-tagus-22.10-*.pickle")
    assert (tmp_path / "shacl").stat().st_mode & 0o777 == 0o700
    cache.write_bytes(b"not a pickle of ours")
    cache.chmod(0o666)
    again = ShapesRegistry(tmp_path).get("gaiax-tagus-22.10")
    assert again.shape_count > 0  # rebuilt from the Turtle, the planted file ignored
    assert cache.read_bytes() != b"not a pickle of ours"
