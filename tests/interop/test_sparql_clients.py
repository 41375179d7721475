"""Interoperability of a real node's `/sparql` with the SPARQL clients people use from Python:
rdflib 7's `SPARQLStore` and SPARQLWrapper 2, unchanged, over HTTP on loopback.

Every query form (SELECT, ASK, CONSTRUCT, DESCRIBE) in each client's default and explicit
formats, by each of their HTTP methods; the dataset named by FROM and FROM NAMED in the query and
by the clients' own dataset options (rdflib's graph identifier, SPARQLWrapper's default and named
graphs); and a dataset only members may see, invisible whatever the client names.
"""

from __future__ import annotations

import asyncio
import warnings

import pytest
import pytest_asyncio
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from tests.nodes import client, init_node, publish, serving

SPARQLWrapper = pytest.importorskip("SPARQLWrapper")  # a dev dependency, as rdflib

pytestmark = pytest.mark.asyncio(loop_scope="module")
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
TITLE = URIRef(DCT + "title")
TITLES = f"SELECT ?t WHERE {{ ?d a <{DCAT}Dataset> ; <{DCT}title> ?t }}"
CONSTRUCT = f"CONSTRUCT {{ ?d <{DCT}title> ?t }} WHERE {{ ?d a <{DCAT}Dataset> ; <{DCT}title> ?t }}"


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory):
    folder = init_node(tmp_path_factory.mktemp("node"))
    (folder / "data").mkdir(exist_ok=True)
    for name in ("air", "traffic", "salaries"):
        (folder / "data" / f"{name}.csv").write_text("a,b\n1,2\n")
    return folder


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def node(node_dir):
    """The node's endpoint and its datasets' IRIs: Air and Traffic open, Salaries members only."""
    async with serving(node_dir) as running, client() as session:
        iris = {}
        for title, policy in (("Air", "open"), ("Traffic", "open"), ("Salaries", "members")):
            path = node_dir / "data" / f"{title.lower()}.csv"
            iris[title] = URIRef((await publish(session, running, path, title, policy))["iri"])
        yield f"{running.public}/sparql", iris


def titles(result) -> set[str]:
    return {str(row[0]) for row in result}


# ---- rdflib's SPARQLStore --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
@pytest.mark.parametrize("fmt", ["xml", "json", "csv", "tsv", "turtle", "nt", "json-ld"])
async def test_sparqlstore_every_query_form_in_every_return_format(node, fmt, method):
    """returnFormat sets one Accept header for every query form: "json" asks SPARQL results of a
    CONSTRUCT, "turtle" a graph of a SELECT; each gets its form's default format instead."""
    url, iris = node

    def run() -> None:
        graph = Graph(SPARQLStore(url, returnFormat=fmt, method=method))
        assert titles(graph.query(TITLES)) == {"Air", "Traffic"}
        assert graph.query("ASK { ?s ?p ?o }").askAnswer is True
        constructed = graph.query(CONSTRUCT).graph
        assert set(constructed.objects(None, TITLE)) == {Literal("Air"), Literal("Traffic")}
        described = graph.query(f"DESCRIBE <{iris['Air']}>").graph
        assert (iris["Air"], TITLE, Literal("Air")) in described

    await asyncio.to_thread(run)


async def test_sparqlstore_from_from_named_and_its_graph_identifier(node):
    url, iris = node

    def run() -> None:
        store = SPARQLStore(url, returnFormat="json")
        graph = Graph(store)
        query = f"SELECT ?t FROM <{iris['Air']}> WHERE {{ ?d a <{DCAT}Dataset> ; <{DCT}title> ?t }}"
        assert titles(graph.query(query)) == {"Air"}
        named = f"SELECT ?g FROM NAMED <{iris['Traffic']}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
        assert {row[0] for row in graph.query(named)} == {iris["Traffic"]}
        traffic = f"FROM <{iris['Traffic']}> WHERE {{ ?d a <{DCAT}Dataset> ; <{DCT}title> ?t }}"
        constructed = graph.query(f"CONSTRUCT {{ ?d <{DCT}title> ?t }} {traffic}").graph
        assert set(constructed.objects(None, TITLE)) == {Literal("Traffic")}
        # a Graph with an identifier asks for that graph with default-graph-uri
        air = Graph(store, identifier=iris["Air"])
        assert set(air.objects(iris["Air"], TITLE)) == {Literal("Air")}
        assert set(air.objects(iris["Traffic"], TITLE)) == set()
        assert titles(air.query(TITLES)) == {"Air"}
        assert {iris["Air"], iris["Traffic"]} <= set(store.contexts())

    await asyncio.to_thread(run)


async def test_sparqlstore_never_sees_a_members_only_dataset(node):
    url, iris = node
    hidden = iris["Salaries"]

    def run() -> None:
        store = SPARQLStore(url, returnFormat="json")
        graph = Graph(store)
        assert list(graph.query(f"SELECT * FROM <{hidden}> WHERE {{ ?s ?p ?o }}")) == []
        assert (
            list(graph.query(f"SELECT * FROM NAMED <{hidden}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"))
            == []
        )
        assert len(graph.query(f"CONSTRUCT WHERE {{ <{hidden}> ?p ?o }}").graph) == 0
        assert list(Graph(store, identifier=hidden).triples((None, None, None))) == []
        assert hidden not in set(store.contexts())

    await asyncio.to_thread(run)


# ---- SPARQLWrapper ---------------------------------------------------------------------------


def wrapper(url: str, query: str, fmt: str | None = None, method: str = "GET"):
    client = SPARQLWrapper.SPARQLWrapper(url)
    client.setQuery(query)
    if fmt is not None:
        client.setReturnFormat(fmt)
    if method == "POSTDIRECTLY":
        client.setMethod(SPARQLWrapper.POST)
        client.setRequestMethod(SPARQLWrapper.POSTDIRECTLY)
    else:
        client.setMethod(method)
    return client


def converted(client):
    with warnings.catch_warnings():
        # it warns when it sends */* for a format the query form has not, and when the answer's
        # format is not the one it asked for: both are what this test is about
        warnings.simplefilter("ignore", RuntimeWarning)
        return client.query().convert()


def rows_of(result) -> set[str]:
    """SELECT results in whatever SPARQLWrapper converted them to: JSON, an XML DOM, CSV/TSV bytes."""
    if isinstance(result, dict):
        return {b["t"]["value"] for b in result["results"]["bindings"]}
    if isinstance(result, bytes):
        lines = result.decode().splitlines()[1:]
        return {line.strip('"').split('"@')[0] for line in lines}
    return {
        node.firstChild.data
        for binding in result.getElementsByTagName("binding")
        for node in binding.getElementsByTagName("literal")
    }


def boolean_of(result) -> bool:
    if isinstance(result, dict):
        return result["boolean"]
    return result.getElementsByTagName("boolean")[0].firstChild.data == "true"


def graph_of(result) -> Graph:
    if isinstance(result, Graph):
        return result
    if isinstance(result, bytes):
        return Graph().parse(data=result, format="turtle")
    return Graph().parse(data=result, format="json-ld")  # JSON-LD comes back parsed


@pytest.mark.parametrize("method", ["GET", "POST", "POSTDIRECTLY"])
async def test_sparqlwrapper_every_query_form_in_its_formats(node, method):
    url, iris = node
    sw = SPARQLWrapper
    describe = f"DESCRIBE <{iris['Air']}>"

    def run() -> None:
        for fmt in (None, sw.JSON, sw.XML, sw.CSV, sw.TSV, sw.TURTLE):  # None: its default, XML
            assert rows_of(converted(wrapper(url, TITLES, fmt, method))) == {"Air", "Traffic"}, fmt
        for fmt in (None, sw.JSON, sw.XML, sw.CSV, sw.TURTLE):
            assert boolean_of(converted(wrapper(url, "ASK { ?s ?p ?o }", fmt, method))) is True
        for fmt in (None, sw.TURTLE, sw.N3, sw.XML, sw.RDFXML, sw.JSONLD, sw.JSON, sw.CSV):
            graph = graph_of(converted(wrapper(url, CONSTRUCT, fmt, method)))
            assert set(graph.objects(None, TITLE)) == {Literal("Air"), Literal("Traffic")}, fmt
            graph = graph_of(converted(wrapper(url, describe, fmt, method)))
            assert (iris["Air"], TITLE, Literal("Air")) in graph, fmt

    await asyncio.to_thread(run)


@pytest.mark.parametrize("method", ["GET", "POST", "POSTDIRECTLY"])
async def test_sparqlwrapper_from_and_its_dataset_options(node, method):
    url, iris = node
    sw = SPARQLWrapper

    def run() -> None:
        query = (
            f"SELECT ?t FROM <{iris['Traffic']}> WHERE {{ ?d a <{DCAT}Dataset> ; <{DCT}title> ?t }}"
        )
        assert rows_of(converted(wrapper(url, query, sw.JSON, method))) == {"Traffic"}
        named = (
            f"SELECT ?t FROM NAMED <{iris['Air']}> WHERE {{ GRAPH ?g {{ ?d <{DCT}title> ?t }} }}"
        )
        assert "Air" in rows_of(converted(wrapper(url, named, sw.JSON, method)))
        # addDefaultGraph / addNamedGraph send default-graph-uri / named-graph-uri: they win over FROM
        client = wrapper(url, query, sw.JSON, method)
        client.addDefaultGraph(str(iris["Air"]))
        assert rows_of(converted(client)) == {"Air"}
        client = wrapper(url, f"ASK {{ GRAPH <{iris['Air']}> {{ ?s ?p ?o }} }}", sw.JSON, method)
        client.addNamedGraph(str(iris["Traffic"]))
        assert boolean_of(converted(client)) is False

    await asyncio.to_thread(run)


async def test_sparqlwrapper_never_sees_a_members_only_dataset(node):
    url, iris = node
    hidden, sw = str(iris["Salaries"]), SPARQLWrapper

    def run() -> None:
        for query in (
            f"ASK FROM <{hidden}> {{ ?s ?p ?o }}",
            f"ASK FROM NAMED <{hidden}> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
            f"ASK {{ <{hidden}> ?p ?o }}",
        ):
            assert boolean_of(converted(wrapper(url, query, sw.JSON))) is False, query
        client = wrapper(url, "ASK { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }", sw.JSON)
        client.addDefaultGraph(hidden)
        client.addNamedGraph(hidden)
        assert boolean_of(converted(client)) is False

    await asyncio.to_thread(run)
