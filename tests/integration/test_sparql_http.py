"""`/sparql` over real HTTP on loopback, with real clients: SPARQLWrapper, rdflib's SPARQLStore, aiohttp, the CLI;
on a bare endpoint and on a real node (its catalog's graphs, FROM, the fence around what a caller may not see)."""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from connector.cli import sparql as sparql_cli
from connector.sparql import SPARQL, Limits, Share, SparqlSettings, open_sparql, public
from tests.conftest import serving
from tests.nodes import client, init_node, publish
from tests.nodes import serving as serving_node

pytestmark = pytest.mark.asyncio(loop_scope="module")
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
TIMEOUT = 2.0


def dataset_turtle(i: int) -> str:
    return f"""
@prefix dcat: <{DCAT}> . @prefix dct: <{DCT}> .
<https://data.example/ds/{i}> a dcat:Dataset ; dct:title "Dataset {i} about {"air" if i % 2 else "water"}"@en ;
    dct:publisher <https://org.example/{i % 3}> ; dcat:keyword "k{i % 4}" .
"""


async def live(_: web.Request) -> web.Response:
    return web.Response(text="ok")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def endpoint(tmp_path_factory):
    settings = SparqlSettings(
        # one address (this test's) may hold both workers: the fair share has its own tests
        limits=Limits(
            anonymous=Share(running=2, waiting=4, timeout=TIMEOUT),
            workers=2,
            max_result_bytes=300_000,
        ),
        max_body_bytes=64 * 1024,
    )
    async with open_sparql(tmp_path_factory.mktemp("sparql"), settings) as service:
        for i in range(20):
            await service.store.replace_graph(f"https://data.example/ds/{i}", dataset_turtle(i))
        filler = "".join(f'<urn:s{i}> <urn:p{i % 5}> "filler {i}" .\n' for i in range(3000))
        await service.store.replace_graph("urn:filler", filler, "nt")
        app = web.Application()
        app[SPARQL] = service
        app.add_routes(public)
        app.router.add_get("/health/live", live)
        async with serving(app) as base:
            yield f"{base}/sparql"


TITLES = f"PREFIX dct: <{DCT}> SELECT ?d ?t {{ ?d dct:title ?t FILTER(CONTAINS(?t, 'air')) }} ORDER BY ?d"


def wrapper(url: str, query: str, fmt: str, method: str | None = None):
    # SPARQLWrapper is a test dependency only (pyproject's dev extra)
    client = pytest.importorskip("SPARQLWrapper").SPARQLWrapper(url)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    if method:
        client.setMethod(method)
    return client


async def test_sparqlwrapper_select_in_every_results_format(endpoint):
    sw = pytest.importorskip("SPARQLWrapper")
    CSV, JSON, POST, TSV, XML = sw.CSV, sw.JSON, sw.POST, sw.TSV, sw.XML

    def run() -> None:
        for method in ("GET", POST):
            data = wrapper(endpoint, TITLES, JSON, method).query().convert()
            assert len(data["results"]["bindings"]) == 10
            xml = wrapper(endpoint, TITLES, XML, method).query().convert()
            assert len(xml.getElementsByTagName("result")) == 10
            csv = wrapper(endpoint, TITLES, CSV, method).query().convert().decode()
            assert csv.splitlines()[0] == "d,t" and len(csv.splitlines()) == 11
            tsv = wrapper(endpoint, TITLES, TSV, method).query().convert().decode()
            assert tsv.splitlines()[0] == "?d\t?t" and '"Dataset 1 about air"@en' in tsv

    await asyncio.to_thread(run)


async def test_sparqlwrapper_graphs_and_ask(endpoint):
    sw = pytest.importorskip("SPARQLWrapper")
    JSON, JSONLD, N3, TURTLE, XML = sw.JSON, sw.JSONLD, sw.N3, sw.TURTLE, sw.XML
    QueryBadFormed = pytest.importorskip("SPARQLWrapper.SPARQLExceptions").QueryBadFormed
    construct = f"PREFIX dct: <{DCT}> CONSTRUCT {{ ?d dct:title ?t }} WHERE {{ ?d dct:title ?t }}"

    def run() -> None:
        for fmt in (TURTLE, N3, JSONLD):
            body = wrapper(endpoint, construct, fmt).query().convert()
            # SPARQLWrapper hands JSON-LD back parsed, Turtle as bytes
            parsed = body if fmt == JSONLD else Graph().parse(data=body, format="turtle")
            assert len(parsed) == 20
        rdfxml = wrapper(endpoint, construct, XML).query().convert()  # an rdflib Graph
        assert len(rdfxml) == 20
        described = wrapper(endpoint, "DESCRIBE <https://data.example/ds/3>", XML).query().convert()
        assert (
            URIRef("https://data.example/ds/3"),
            URIRef(DCT + "title"),
            Literal("Dataset 3 about air", lang="en"),
        ) in described
        assert wrapper(endpoint, "ASK { ?s ?p ?o }", JSON).query().convert()["boolean"] is True
        assert (
            wrapper(endpoint, "ASK { ?s ?p 'nothing' }", XML)
            .query()
            .convert()
            .getElementsByTagName("boolean")[0]
            .firstChild.data
            == "false"
        )
        with pytest.raises(QueryBadFormed):
            wrapper(endpoint, "SELECT * { ?s ?p ", JSON).query()

    await asyncio.to_thread(run)


async def test_rdflib_sparqlstore(endpoint):
    def run() -> None:
        graph = Graph(SPARQLStore(endpoint))
        result = list(
            graph.query(
                f"PREFIX dct: <{DCT}> SELECT ?t WHERE {{ <https://data.example/ds/4> dct:title ?t }}"
            )
        )
        assert result == [(Literal("Dataset 4 about water", lang="en"),)]
        assert graph.query("ASK { ?s ?p ?o }").askAnswer is True
        triples = list(graph.triples((URIRef("https://data.example/ds/4"), None, None)))
        assert len(triples) == 4
        constructed = graph.query(
            f"CONSTRUCT {{ ?d <{DCT}publisher> ?p }} WHERE {{ ?d <{DCT}publisher> ?p }}"
        ).graph
        assert len(constructed) == 20

    await asyncio.to_thread(run)


async def http(method: str, url: str, **kwargs) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, **kwargs) as response:
            return response.status, dict(response.headers), await response.text()


async def test_service_description_and_cors(endpoint):
    status, headers, body = await http("GET", endpoint)
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    assert headers["Access-Control-Allow-Origin"] == "*"
    description = Graph().parse(data=body, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert (URIRef(endpoint), URIRef(sd + "endpoint"), URIRef(endpoint)) in description
    assert (
        URIRef(endpoint),
        URIRef(sd + "feature"),
        URIRef(sd + "UnionDefaultGraph"),
    ) in description
    status, headers, _ = await http("GET", endpoint, headers={"Accept": "application/ld+json"})
    assert headers["Content-Type"] == "application/ld+json"
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    status, headers, _ = await http("OPTIONS", endpoint, headers=preflight)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"].lower() == "content-type"
    status, headers, _ = await http(
        "GET", endpoint, params={"query": "SELECT * {"}, headers={"Origin": "https://app.example"}
    )
    assert status == 400 and headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"params": {"query": "SELECT * { ?s ?p "}}, 400, "malformed query"),
        ({"params": {"update": "CLEAR ALL"}}, 403, "read-only"),
        ({"params": {"query": "DROP ALL"}}, 403, "read-only"),
        (
            {"params": {"query": "SELECT * { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }"}},
            400,
            "SERVICE",
        ),
        ({"params": {"query": "ASK " + "{" * 300 + "}" * 300}}, 400, "nests"),
        ({"params": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400, "not valid"),
        # 406 only when the header refuses every format (q=0)
        (
            {"params": {"query": "SELECT * {}"}, "headers": {"Accept": "image/png, */*;q=0"}},
            406,
            "offered",
        ),
        (
            {
                "params": {"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                "headers": {"Accept": "text/csv, */*;q=0"},
            },
            406,
            "graph",
        ),
    ],
)
async def test_bad_requests_get_clear_errors(endpoint, kwargs, status, words):
    got, headers, body = await http("GET", endpoint, **kwargs)
    assert got == status and words in body
    assert headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        ({"Content-Type": "application/sparql-update"}, "CLEAR ALL", 403),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "update=CLEAR%20ALL", 403),
        ({"Content-Type": "text/plain"}, "ASK {}", 415),
        ({"Content-Type": "application/sparql-query; charset=latin-1"}, "ASK {}", 415),
        ({"Content-Type": "application/sparql-query"}, b"ASK { ?s ?p '\xff' }", 400),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            "query=ASK%20%7B%7D&query=ASK%20%7B%7D",
            400,
        ),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "nothing=here", 400),
        ({"Content-Type": "application/sparql-query"}, "SELECT * {} #" + "x" * 70_000, 413),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "query=" + "x" * 2_000_000, 413),
    ],
)
async def test_bad_posts(endpoint, headers, data, status):
    got, _, body = await http("POST", endpoint, headers=headers, data=data)
    assert got == status, body
    assert body.strip()


async def test_dataset_from_the_protocol(endpoint):
    query = "SELECT ?d { ?d ?p ?o } GROUP BY ?d"
    params = [
        ("query", query),
        ("default-graph-uri", "https://data.example/ds/1"),
        ("default-graph-uri", "https://data.example/ds/2"),
    ]
    status, _, body = await http(
        "GET", endpoint, params=params, headers={"Accept": "application/sparql-results+json"}
    )
    assert status == 200
    assert sorted(b["d"]["value"] for b in json.loads(body)["results"]["bindings"]) == [
        "https://data.example/ds/1",
        "https://data.example/ds/2",
    ]


async def test_from_names_a_graph_of_the_store_and_never_fetches_it(endpoint):
    """FROM <url> reads the store's graph of that name: an endpoint that dereferenced it would
    let any caller make the node fetch URLs."""
    hits = []

    async def data(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="<urn:x> <urn:y> 'fetched' .", content_type="text/turtle")

    remote = web.Application()
    remote.router.add_get("/data.ttl", data)
    async with serving(remote) as base:
        for query in (
            f"SELECT * FROM <{base}/data.ttl> {{ ?s ?p ?o }}",
            f"SELECT * FROM NAMED <{base}/data.ttl> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        ):
            status, _, body = await http(
                "GET", endpoint, params={"query": query}, headers={"Accept": "application/json"}
            )
            assert status == 200 and json.loads(body)["results"]["bindings"] == []
    assert hits == []


async def test_hostile_queries_are_cut_and_the_node_keeps_serving(endpoint):
    hostile = [
        "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
        "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f FILTER(REGEX(CONCAT(STR(?c), STR(?f)), '^(a|aa)*(b|c)+x{1,40}$')) }",
    ]
    started = time.monotonic()
    tasks = [asyncio.create_task(http("GET", endpoint, params={"query": q})) for q in hostile]
    await asyncio.sleep(0.3)
    # both workers are busy: the node still answers its other routes at once
    quick = time.monotonic()
    status, _, body = await http("GET", endpoint.replace("/sparql", "/health/live"))
    assert status == 200 and time.monotonic() - quick < 0.5
    # and a query waits for a freed worker, then gets its answer
    status, _, body = await http(
        "GET",
        endpoint,
        params={"query": "ASK { <urn:s1> ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert status == 200 and json.loads(body)["boolean"] is True
    for status, headers, body in await asyncio.gather(*tasks):
        # no Retry-After: the same query would be stopped again
        assert status == 503 and "stopped" in body and "Retry-After" not in headers
    assert time.monotonic() - started < TIMEOUT + 3.0


async def test_huge_result_is_refused(endpoint):
    status, _, body = await http("GET", endpoint, params={"query": "SELECT * { ?s ?p ?o }"})
    assert status == 422 and "LIMIT" in body


def cli(endpoint: str, *argv: str) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", default=None)
    common.add_argument("--json", action="store_true", default=False)
    parser = argparse.ArgumentParser()
    sparql_cli.register(parser.add_subparsers(), common)
    return parser.parse_args(["sparql", endpoint, *argv])


async def test_cli(endpoint, tmp_path, capsys):
    assert await asyncio.to_thread(sparql_cli.handler, cli(endpoint, TITLES)) == 0
    out = capsys.readouterr().out
    assert "Dataset 1 about air" in out and "10 rows" in out
    query_file = tmp_path / "q.rq"
    query_file.write_text("ASK { ?s ?p ?o }")
    assert (
        await asyncio.to_thread(sparql_cli.handler, cli(endpoint, f"@{query_file}", "--json")) == 0
    )
    assert json.loads(capsys.readouterr().out)["boolean"] is True
    construct = "CONSTRUCT WHERE { <https://data.example/ds/2> ?p ?o }"
    assert (
        await asyncio.to_thread(sparql_cli.handler, cli(endpoint, construct, "--format", "nt")) == 0
    )
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    # the protocol's dataset, by GET and, for a long query, by POST: it replaces FROM
    subjects = "SELECT DISTINCT ?d FROM <https://data.example/ds/1> { ?d ?p ?o }"
    for padding in ("", "#" + "x" * 3000 + "\n"):
        argv = ["--default-graph", "https://data.example/ds/2", "--default-graph", "urn:none"]
        assert (
            await asyncio.to_thread(sparql_cli.handler, cli(endpoint, padding + subjects, *argv))
            == 0
        )
        assert "https://data.example/ds/2" in capsys.readouterr().out
    named = "SELECT ?g { GRAPH ?g { ?s ?p ?o } }"
    argv = (named, "--named-graph", "https://data.example/ds/3", "--json")
    assert await asyncio.to_thread(sparql_cli.handler, cli(endpoint, *argv)) == 0
    bindings = json.loads(capsys.readouterr().out)["results"]["bindings"]
    assert {b["g"]["value"] for b in bindings} == {"https://data.example/ds/3"}
    from connector.errors import ConnectorError

    with pytest.raises(ConnectorError, match="400.*malformed"):
        await asyncio.to_thread(sparql_cli.handler, cli(endpoint, "SELECT * {"))
    with pytest.raises(ConnectorError, match="not an http"):
        await asyncio.to_thread(sparql_cli.handler, cli("ftp://x", "ASK {}"))


# ---- a real node: its dataset graphs, FROM and the catalog's fence, content negotiation --------


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory):
    folder = init_node(tmp_path_factory.mktemp("node"))
    (folder / "data").mkdir(exist_ok=True)
    for name in ("air.csv", "traffic.csv", "salaries.csv"):
        (folder / "data" / name).write_text("a,b\n1,2\n")
    return folder


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def node(node_dir):
    """A serving node with two open datasets and one that only members may see."""
    async with serving_node(node_dir) as running, client() as session:
        iris = {}
        for title, policy in (("Air", "open"), ("Traffic", "open"), ("Salaries", "members")):
            path = node_dir / "data" / f"{title.lower()}.csv"
            iris[title] = (await publish(session, running, path, title, policy))["iri"]
        yield f"{running.public}/sparql", iris


async def select(url: str, query: str, method: str = "GET", **params) -> list[dict]:
    """Rows of QUERY sent by METHOD: GET, FORM (urlencoded POST) or DIRECT (sparql-query POST)."""
    pairs = [(k, v) for k, vs in params.items() for v in vs]
    accept = {"Accept": "application/sparql-results+json"}
    if method == "GET":
        kwargs = {"params": [("query", query), *pairs], "headers": accept}
        status, _, body = await http("GET", url, **kwargs)
    elif method == "FORM":
        status, _, body = await http("POST", url, data=[("query", query), *pairs], headers=accept)
    else:
        headers = {**accept, "Content-Type": "application/sparql-query"}
        status, _, body = await http("POST", url, params=pairs, data=query, headers=headers)
    assert status == 200, body
    return json.loads(body)["results"]["bindings"]


TITLED = f"?d a <{DCAT}Dataset> ; <{DCT}title> ?t"
TITLE_OF = f"SELECT ?t {{ {TITLED} }}"


def titles(rows: list[dict]) -> set[str]:
    return {row["t"]["value"] for row in rows}


@pytest.mark.parametrize("method", ["GET", "FORM", "DIRECT"])
async def test_from_and_from_named_on_a_node(node, method):
    url, iris = node
    assert titles(await select(url, TITLE_OF, method)) == {"Air", "Traffic"}
    from_air = f"SELECT ?t FROM <{iris['Air']}> {{ {TITLED} }}"
    assert titles(await select(url, from_air, method)) == {"Air"}
    named = f"SELECT ?g ?t FROM NAMED <{iris['Traffic']}> {{ GRAPH ?g {{ {TITLED} }} }}"
    rows = await select(url, named, method)
    assert [(r["g"]["value"], r["t"]["value"]) for r in rows] == [(iris["Traffic"], "Traffic")]
    # the request's dataset replaces the query's
    rows = await select(url, from_air, method, **{"default-graph-uri": [iris["Traffic"]]})
    assert titles(rows) == {"Traffic"}


@pytest.mark.parametrize("method", ["GET", "FORM", "DIRECT"])
async def test_a_dataset_hidden_from_the_caller_stays_hidden_whatever_names_it(node, method):
    url, iris = node
    hidden = iris["Salaries"]
    everything = "{ { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    for query in (
        f"SELECT ?t FROM <{hidden}> {{ {TITLED} }}",
        f"SELECT * FROM <{hidden}> {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{hidden}> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{hidden}> FROM NAMED <{hidden}> {everything}",
        f"SELECT * {{ GRAPH <{hidden}> {{ ?s ?p ?o }} }}",
    ):
        assert await select(url, query, method) == [], query
    for params in (
        {"default-graph-uri": [hidden]},
        {"named-graph-uri": [hidden]},
        {"default-graph-uri": [hidden], "named-graph-uri": [hidden]},
    ):
        assert await select(url, f"SELECT * {everything}", method, **params) == [], params
    rows = await select(url, f"SELECT ?s {{ ?s ?p ?o FILTER(?s = <{hidden}>) }}", method)
    assert rows == []  # nor in the union


@pytest.mark.parametrize(
    ("query", "accept", "media"),
    [
        # what rdflib's SPARQLStore sends with returnFormat json, turtle, csv and its default
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/sparql-results+json", "text/turtle"),
        ("DESCRIBE ?d WHERE { ?d a ?c }", "application/sparql-results+json", "text/turtle"),
        ("SELECT * { ?s ?p ?o } LIMIT 3", "text/turtle", "application/sparql-results+json"),
        ("ASK { ?s ?p ?o }", "text/turtle", "application/sparql-results+json"),
        ("ASK { ?s ?p ?o }", "text/csv", "application/sparql-results+json"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "text/csv", "text/turtle"),
        (
            "CONSTRUCT WHERE { ?s ?p ?o }",
            "application/rdf+xml, application/sparql-results+xml",
            "application/rdf+xml",
        ),
        ("SELECT * { ?s ?p ?o } LIMIT 3", "image/png", "application/sparql-results+json"),
    ],
)
async def test_a_format_the_query_form_cannot_produce_gets_its_default(node, query, accept, media):
    url, _ = node
    status, headers, body = await http(
        "GET", url, params={"query": query}, headers={"Accept": accept}
    )
    assert status == 200, body
    assert headers["Content-Type"].split(";")[0] == media
    if media == "application/sparql-results+json":
        json.loads(body)
    else:
        assert len(Graph().parse(data=body, format="xml" if "xml" in media else "turtle")) > 0


async def test_the_service_description_falls_back_to_turtle(node):
    url, _ = node
    status, headers, body = await http(
        "GET", url, headers={"Accept": "application/sparql-results+json"}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    assert "union of all graphs unless the query" in body
