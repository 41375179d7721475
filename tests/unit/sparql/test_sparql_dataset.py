"""Which dataset a query runs on (SPARQL 1.1 Query 13.2, Protocol 2.1.4), through the engine's
real workers, on checkpoints and on in-memory replicas alike.

The default graph is the union of all graphs only when neither the query (FROM, FROM NAMED) nor
the request (default-graph-uri, named-graph-uri) names one; a dataset given by the request
replaces the query's; a graph that is not in the store is empty, whatever names it.
"""

from __future__ import annotations

import asyncio
import json
import time

import pyoxigraph as ox
import pytest
import pytest_asyncio

from connector.sparql import Limits, Share, SparqlSettings, open_sparql
from connector.sparql.formats import parse_accept
from connector.sparql.guard import dataset_clauses

pytestmark = pytest.mark.asyncio(loop_scope="module")
JSON = parse_accept("application/sparql-results+json")
G1, G2, G3 = "urn:g:1", "urn:g:2", "urn:g:3"
ALL = "SELECT ?o { ?s ?p ?o }"
NAMED = "SELECT ?g ?o { GRAPH ?g { ?s ?p ?o } }"


@pytest_asyncio.fixture(loop_scope="module", scope="module", params=["checkpoints", "replicas"])
async def engine(request, tmp_path_factory):
    limits = Limits(member=Share(2, 8, 5.0), workers=2)
    if request.param == "checkpoints":
        limits = Limits(member=Share(2, 8, 5.0), workers=2, replica_max_bytes=0)
    folder = tmp_path_factory.mktemp("dataset")
    async with open_sparql(folder, SparqlSettings(limits=limits)) as service:
        for graph, value in ((G1, "one"), (G2, "two"), (G3, "three")):
            await service.store.replace_graph(graph, f"<urn:s:{value}> <urn:p> '{value}' .")
        if request.param == "replicas":
            deadline = time.monotonic() + 60
            while service.engine.replicated < limits.workers:
                assert time.monotonic() < deadline, "the replicas were not built"
                await asyncio.sleep(0.1)
        yield service.engine


async def solutions(engine, query: str, **dataset) -> set[tuple[str, ...]]:
    answer = await engine.execute(query, JSON, **dataset)
    assert answer.status == 200, answer.message
    rows = json.loads(answer.body)["results"]["bindings"]
    return {tuple(row[v]["value"] for v in sorted(row)) for row in rows}


@pytest.mark.parametrize(
    ("query", "dataset", "expected"),
    [
        # nothing names the dataset: the default graph is the union, every graph is named
        (ALL, {}, {("one",), ("two",), ("three",)}),
        (NAMED, {}, {(G1, "one"), (G2, "two"), (G3, "three")}),
        # FROM makes the default graph the merge of the graphs it names, and no graph named
        (f"SELECT ?o FROM <{G1}> {{ ?s ?p ?o }}", {}, {("one",)}),
        (f"select ?o from <{G1}> from <{G3}> where {{ ?s ?p ?o }}", {}, {("one",), ("three",)}),
        (f"SELECT ?g ?o FROM <{G1}> {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}, set()),
        # FROM NAMED alone: the named graphs it lists, and an empty default graph
        (f"SELECT ?g ?o FROM NAMED <{G2}> {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}, {(G2, "two")}),
        (f"SELECT ?o FROM NAMED <{G2}> {{ ?s ?p ?o }}", {}, set()),
        (
            f"SELECT ?g ?o FROM <{G1}> FROM NAMED <{G3}> {{ {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} }} }}",
            {},
            {("one",), (G3, "three")},
        ),
        # a graph that is not in the store is empty: never the union, never fetched
        ("SELECT ?o FROM <urn:g:absent> { ?s ?p ?o }", {}, set()),
        ("SELECT ?o FROM <http://127.0.0.1:1/elsewhere> { ?s ?p ?o }", {}, set()),
        # the request's dataset replaces the query's
        (ALL, {"default_graphs": [G2]}, {("two",)}),
        (f"SELECT ?o FROM <{G1}> {{ ?s ?p ?o }}", {"default_graphs": [G2]}, {("two",)}),
        (ALL, {"default_graphs": [], "named_graphs": [G1]}, set()),
        (NAMED, {"default_graphs": [G1], "named_graphs": []}, set()),
        (
            f"SELECT ?g ?o FROM NAMED <{G1}> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
            {"named_graphs": [G3]},
            {(G3, "three")},
        ),
        (ALL, {"default_graphs": ["urn:g:absent"]}, set()),
    ],
)
async def test_the_dataset_of_a_query(engine, query, dataset, expected):
    assert await solutions(engine, query, **dataset) == expected


async def test_every_query_form_honours_from(engine):
    ask = await engine.execute(f"ASK FROM <{G1}> {{ ?s ?p 'two' }}", JSON)
    assert json.loads(ask.body)["boolean"] is False
    turtle = parse_accept("application/n-triples")
    construct = await engine.execute(
        f"CONSTRUCT {{ ?s ?p ?o }} FROM <{G2}> WHERE {{ ?s ?p ?o }}", turtle
    )
    assert construct.body.decode().strip() == '<urn:s:two> <urn:p> "two" .'
    describe = await engine.execute(f"DESCRIBE <urn:s:one> FROM <{G2}>", turtle)
    assert describe.status == 200 and describe.body.strip() == b""
    describe = await engine.execute(f"DESCRIBE <urn:s:one> FROM <{G1}>", turtle)
    assert describe.body.decode().strip() == '<urn:s:one> <urn:p> "one" .'


CLAUSES = [
    f"SELECT ?o FROM <{G1}> {{ ?s ?p ?o }}",
    f"select ?o from <{G1}> from named <{G2}> where {{ {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} }} }}",
    "PREFIX g: <urn:g:> SELECT ?o FROM g:3 FROM NAMED g:1 { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
    "BASE <http://example.org/base/> SELECT ?o FROM <graph> { ?s ?p ?o }",
    f"SELECT ?o FROM<{G2}>{{ ?s ?p ?o }} # FROM <{G3}>",
    f"SELECT ?o FROM NAMED <{G3}> {{ GRAPH ?g {{ ?s ?p ?o FILTER(?o != 'from') }} }}",
]


@pytest.mark.parametrize("query", CLAUSES)
async def test_dataset_clauses_name_the_graphs_the_engine_reads(query):
    """What dataset_clauses() reads from a query (for an endpoint that narrows the dataset to
    what a caller may see) is the dataset pyoxigraph itself builds from it."""
    store = ox.Store()
    for graph in (G1, G2, G3, "http://example.org/base/graph"):
        store.add(
            ox.Quad(
                ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal(graph), ox.NamedNode(graph)
            )
        )
    default, named = dataset_clauses(query)
    given = {
        "default_graph": [ox.NamedNode(g) for g in default],
        "named_graphs": [ox.NamedNode(g) for g in named],
    }
    assert sorted(str(r["o"]) for r in store.query(query)) == sorted(
        str(r["o"]) for r in store.query(query, **given)
    )
    assert len(list(store.query(query))) > 0
    assert dataset_clauses("SELECT * { ?s ?p 'from' }") is None
