"""The store's writes and the engine's limits, without HTTP: real worker processes, real RocksDB."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from connector.errors import ConnectorError
from connector.sparql import Limits, Share, SparqlSettings, open_sparql
from connector.sparql.formats import parse_accept

JSON = parse_accept("application/sparql-results+json")
TIMEOUT = 2.0


def rows(answer) -> list[dict]:
    assert answer.status == 200, answer.message
    return json.loads(answer.body)["results"]["bindings"]


def boolean(answer) -> bool:
    assert answer.status == 200, answer.message
    return json.loads(answer.body)["boolean"]


@pytest.fixture
async def sparql(tmp_path):
    limits = Limits(member=Share(2, 8, TIMEOUT), workers=2, max_result_bytes=200_000)
    settings = SparqlSettings(limits=limits)
    async with open_sparql(tmp_path / "sparql", settings) as service:
        yield service


async def test_replace_is_whole_and_the_default_graph_is_the_union(sparql):
    store, engine = sparql.store, sparql.engine
    await store.replace_graph(
        "urn:g:1", "<urn:a> <urn:p> 'one' . <urn:a> <urn:q> 'two' .", "text/turtle"
    )
    await store.replace_graph("urn:g:2", '<urn:b> <urn:p> "three" .', "nt")
    assert store.graphs() == ["urn:g:1", "urn:g:2"]
    assert len(rows(await engine.execute("SELECT * { ?s ?p ?o }", JSON))) == 3
    # replacing drops what the old graph had: no stale triple survives
    await store.replace_graph("urn:g:1", "<urn:a> <urn:p> 'uno' .")
    values = {r["o"]["value"] for r in rows(await engine.execute("SELECT ?o { ?s ?p ?o }", JSON))}
    assert values == {"uno", "three"}
    await store.remove_graph("urn:g:2")
    assert store.graphs() == ["urn:g:1"]
    assert not boolean(await engine.execute("ASK { ?s ?p 'three' }", JSON))


async def test_invalid_rdf_changes_nothing(sparql):
    await sparql.store.replace_graph("urn:g:1", "<urn:a> <urn:p> 'one' .")
    with pytest.raises(ConnectorError, match="invalid"):
        await sparql.store.replace_graph("urn:g:1", "<urn:a> <urn:p> 'broken")
    with pytest.raises(ConnectorError, match="not a valid graph IRI"):
        await sparql.store.replace_graph("no scheme", "<urn:a> <urn:p> 'one' .")
    assert boolean(await sparql.engine.execute("ASK { <urn:a> <urn:p> 'one' }", JSON))


async def test_bulk_load_and_persistence(tmp_path):
    nquads = "".join(f'<urn:s{i}> <urn:p> "v{i}" <urn:g{i % 3}> .\n' for i in range(1000))
    async with open_sparql(tmp_path / "s", SparqlSettings(limits=Limits(workers=1))) as service:
        await service.store.bulk_load(nquads, "application/n-quads")
    async with open_sparql(tmp_path / "s", SparqlSettings(limits=Limits(workers=1))) as service:
        answer = await service.engine.execute("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", JSON)
        assert rows(answer)[0]["n"]["value"] == "1000"
        assert len(service.store.graphs()) == 3


async def load_sizeable(service, triples: int = 3000) -> None:
    body = "".join(
        f'<urn:s{i}> <urn:p{i % 5}> "value {i} aaaaaaaaaaaaaaaaaaaaaa" .\n' for i in range(triples)
    )
    await service.store.replace_graph("urn:big", body, "nt")


HOSTILE = {
    "cartesian product": "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "regex over a product": (
        "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f "
        "FILTER(REGEX(CONCAT(STR(?c), STR(?f)), '^(a|aa)*(a|b)+(x{1,50}y?)*$')) }"
    ),
    "sorting a product": "SELECT * { ?a ?b ?c . ?d ?e ?f } ORDER BY DESC(STR(?c)) ?f LIMIT 1",
}


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_hostile_queries_are_stopped_while_others_are_served(sparql, name):
    await load_sizeable(sparql)
    engine = sparql.engine
    started = time.monotonic()
    hostile = asyncio.create_task(engine.execute(HOSTILE[name], JSON))
    await asyncio.sleep(0.2)
    # the other worker answers at once, and the event loop stays free
    quick = time.monotonic()
    assert boolean(await engine.execute("ASK { <urn:s7> ?p ?o }", JSON))
    assert time.monotonic() - quick < 1.0
    answer = await hostile
    elapsed = time.monotonic() - started
    assert answer.status == 503 and "stopped" in answer.message
    assert elapsed < TIMEOUT + 2.0
    # the killed worker is replaced: both workers serve again
    results = await asyncio.gather(*(engine.execute("ASK { ?s ?p ?o }", JSON) for _ in range(4)))
    assert all(boolean(r) for r in results)


async def test_a_huge_result_hits_the_cap(sparql):
    await load_sizeable(sparql)
    answer = await sparql.engine.execute("SELECT * { ?s ?p ?o }", JSON)
    assert answer.status == 422 and "LIMIT" in answer.message
    assert len(rows(await sparql.engine.execute("SELECT * { ?s ?p ?o } LIMIT 10", JSON))) == 10


async def test_a_crashing_query_ends_only_its_worker(tmp_path):
    # a time limit that no loaded machine reaches: only the crash can end this query
    settings = SparqlSettings(limits=Limits(member=Share(2, 8, 60.0), workers=2))
    async with open_sparql(tmp_path / "sparql", settings) as sparql:
        # the guard refuses this over HTTP; here it goes straight to the engine to prove the fence
        answer = await sparql.engine.execute("ASK " + "{" * 20000 + "}" * 20000, JSON)
        # the signal that ended it, whoever reaps the process first (not "exit 255")
        assert answer.status == 500, answer.message
        assert re.search(r"crashed on this query with SIG(SEGV|ABRT)", answer.message)
        assert boolean(await sparql.engine.execute("ASK {}", JSON))


async def test_service_cannot_reach_the_network_even_past_the_guard(sparql):
    if not sparql.engine.isolated:
        pytest.skip(
            "this machine does not allow network namespaces: only the guard refuses SERVICE"
        )
    answer = await sparql.engine.execute(
        "SELECT * { SERVICE <http://127.0.0.1:8181/sparql> { ?s ?p ?o } }", JSON
    )
    assert answer.status == 500 and "unreachable" in answer.message.lower()


async def test_malformed_query_and_formats_a_query_form_cannot_produce(sparql):
    await sparql.store.replace_graph("urn:g:1", "<urn:a> <urn:p> 'one' .")
    answer = await sparql.engine.execute("SELECT * { ?s ?p ", JSON)
    assert answer.status == 400 and answer.message.startswith("malformed query")
    # SPARQL results asked for a graph: the graph's default format, not 406
    answer = await sparql.engine.execute("CONSTRUCT WHERE { ?s ?p ?o }", JSON)
    assert answer.status == 200 and answer.media == "text/turtle"
    assert b'<urn:a> <urn:p> "one"' in answer.body
    answer = await sparql.engine.execute("SELECT * { ?s ?p ?o }", parse_accept("text/turtle"))
    assert answer.status == 200 and answer.media == "application/sparql-results+json"
    # 406 only when every format of the form is refused
    refused = parse_accept("text/turtle, */*;q=0")
    answer = await sparql.engine.execute("SELECT * { ?s ?p ?o }", refused)
    assert answer.status == 406 and "refuses every format" in answer.message


async def test_checkpoints_are_collected(sparql):
    for i in range(6):
        await sparql.store.replace_graph(f"urn:g:{i}", f"<urn:a> <urn:p> {i} .")
        assert boolean(await sparql.engine.execute(f"ASK {{ <urn:a> <urn:p> {i} }}", JSON))
    left = list(sparql.engine.snapshots.iterdir())
    assert len(left) <= sparql.engine.limits.workers + 1
