"""The W3C SPARQL 1.1 Protocol tests (specs/sparql/manifest.ttl) against `/sparql` on loopback.

Every query test and every bad-request test runs as written, with `/sparql/` mapped to `/sparql`.
Not applicable, because the endpoint is read-only by design (the issue: "updates refused"):
update_dataset_default_graph, update_dataset_default_graphs, update_dataset_named_graphs,
update_dataset_full, update_post_form, update_post_direct and update_base_uri expect an update
to succeed. For those we check the opposite: the update is refused with 403 and nothing changes.
The bad_update_* tests expect a 4xx and apply as written.

The query_dataset_* tests and query_multiple_dataset only ask whether graphs they name are
there, which an endpoint that ignores the dataset (running on the union of all graphs) passes
too. So each of their requests is also sent again, the same way and with the same dataset
parameters and FROM clauses, with probes that ask of every graph loaded whether it is in the
default graph and whether it is a named graph: exactly those the protocol's dataset names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit
from xml.dom import minidom

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from rdflib import RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection
from yarl import URL

from connector.sparql import SPARQL, Limits, Share, SparqlSettings, open_sparql, public
from tests.conftest import serving

pytestmark = pytest.mark.asyncio(loop_scope="module")
SPECS = Path(__file__).parent / "protocol"  # the W3C protocol suite's manifest and data, vendored
MANIFEST = SPECS / "manifest.ttl"
BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest#"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
STATUS = "http://www.w3.org/2011/http-statusCodes#StatusCode"
READ_ONLY = {
    "update_dataset_default_graph",
    "update_dataset_default_graphs",
    "update_dataset_named_graphs",
    "update_dataset_full",
    "update_post_form",
    "update_post_direct",
    "update_base_uri",
}
RESULT_TYPES = ("application/sparql-results+json", "application/sparql-results+xml")
TABULAR = (*RESULT_TYPES, "text/csv", "text/tab-separated-values")
RDF_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")

manifest = Graph().parse(MANIFEST, format="turtle", publicID=BASE)


def entries() -> list[str]:
    head = next(manifest.objects(None, MF.entries))
    return [str(e)[len(BASE) :] for e in Collection(manifest, head)]


def requests_of(name: str) -> list[dict]:
    action = manifest.value(URIRef(BASE + name), MF.action)
    out = []
    for req in Collection(manifest, manifest.value(action, HT.requests)):
        body = manifest.value(req, HT.body)
        headers = {}
        if (header_list := manifest.value(req, HT.headers)) is not None:
            for h in Collection(manifest, header_list):
                headers[str(manifest.value(h, HT.fieldName))] = str(
                    manifest.value(h, HT.fieldValue)
                )
        resp = manifest.value(req, HT.resp)
        expected_bool = manifest.value(resp, MF.expectedBoolean)
        out.append(
            {
                "method": str(manifest.value(req, HT.methodName)),
                "path": str(manifest.value(req, HT.absolutePath)),
                "body": None if body is None else str(manifest.value(body, CNT.chars)),
                "encoding": None
                if body is None
                else str(manifest.value(body, CNT.characterEncoding)),
                "headers": headers,
                "statuses": {
                    str(s)[len(STATUS) :] for s in manifest.objects(resp, MF.expectedStatus)
                },
                "boolean": None if expected_bool is None else expected_bool.toPython(),
                "format": str(manifest.value(resp, MF.expectedFormat) or "") or None,
            }
        )
    return out


def graph_data() -> dict[str, Path]:
    """Every graph any test loads: they always bind the same file to the same name."""
    data = {}
    for node in manifest.objects(None, UT.graphData):
        data[str(manifest.value(node, RDFS.label))] = (
            SPECS / Path(str(manifest.value(node, UT.graph))).name
        )
    return data


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def base_url(tmp_path_factory):
    settings = SparqlSettings(limits=Limits(anonymous=Share(1, 4, 10.0), workers=2))
    async with open_sparql(tmp_path_factory.mktemp("protocol"), settings) as service:
        for name, path in graph_data().items():
            await service.store.replace_graph(name, path.read_bytes(), "application/n-triples")
        app = web.Application()
        app[SPARQL] = service
        app.add_routes(public)
        async with serving(app) as base:
            yield base


async def send(base_url: str, request: dict) -> tuple[int, str, bytes]:
    path = request["path"].replace("/sparql/", "/sparql", 1)
    body = None
    if request["body"] is not None:
        body = request["body"].encode("utf-16" if request["encoding"] == "UTF-16" else "utf-8")
    async with aiohttp.ClientSession() as session:
        async with session.request(
            request["method"],
            URL(base_url + path, encoded=True),
            data=body,
            headers=request["headers"],
            skip_auto_headers=["Content-Type"],
        ) as response:
            return response.status, response.content_type, await response.read()


def boolean_of(media: str, body: bytes) -> bool:
    if media == "application/sparql-results+json":
        return json.loads(body)["boolean"]
    node = minidom.parseString(body).getElementsByTagName("boolean")[0]
    return node.firstChild.data.strip() == "true"


async def test_the_manifest_is_complete():
    assert len(entries()) == 34
    assert READ_ONLY <= set(entries())


@pytest.mark.parametrize("name", [n for n in entries() if n not in READ_ONLY])
async def test_protocol(base_url, name):
    for request in requests_of(name):
        status, media, body = await send(base_url, request)
        assert f"{status // 100}xx" in request["statuses"], (status, body)
        if request["format"] == "boolean":
            assert media in RESULT_TYPES
        elif request["format"] == "tabular":
            assert media in TABULAR
        elif request["format"] == "RDF":
            assert media in RDF_TYPES
            Graph().parse(
                data=body,
                format={"application/ld+json": "json-ld", "application/rdf+xml": "xml"}.get(
                    media, "turtle"
                ),
            )
        if request["boolean"] is not None:
            assert boolean_of(media, body) is request["boolean"]


@pytest.mark.parametrize("name", sorted(READ_ONLY))
async def test_updates_are_refused(base_url, name):
    update = requests_of(name)[0]
    status, _, body = await send(base_url, update)
    assert status == 403 and b"read-only" in body
    check = {
        "method": "GET",
        "path": "/sparql/?query=ASK%20%7B%20%3Fs%20a%20%3Fo%20%7D",
        "body": None,
        "headers": {},
    }
    status, media, body = await send(base_url, check)
    assert status == 200 and boolean_of(media, body) is True  # the data is still there


DATASET_TESTS = [n for n in entries() if n.startswith(("query_dataset", "query_multiple_dataset"))]
_FROM = re.compile(r"FROM\s+(?:NAMED\s+)?<[^>]*>", re.IGNORECASE)


def _form(request: dict) -> bool:
    return (
        request["headers"].get("content-type", "").startswith("application/x-www-form-urlencoded")
    )


def _with_query(request: dict, probe: str) -> dict:
    """REQUEST sent the same way (method, path, dataset parameters, headers) with PROBE as query."""
    if request["method"] == "GET":
        path, _, params = request["path"].partition("?")
        kept = "&".join(p for p in params.split("&") if not p.startswith("query="))
        return {**request, "path": f"{path}?{kept}&query={quote(probe, safe='')}"}
    if _form(request):
        fields = [(k, v) for k, v in parse_qsl(request["body"]) if k != "query"]
        return {**request, "body": urlencode([*fields, ("query", probe)])}
    return {**request, "body": probe}


def _dataset(request: dict) -> tuple[set[str], set[str], str]:
    """The request's default-graph-uri and named-graph-uri values, and its query."""
    params = parse_qsl(urlsplit(request["path"]).query)
    if request["body"] is not None and _form(request):
        params += parse_qsl(request["body"])
    query = dict(params).get("query") if request["method"] == "GET" or _form(request) else None
    default = {v for k, v in params if k == "default-graph-uri"}
    named = {v for k, v in params if k == "named-graph-uri"}
    return default, named, query or request["body"]


@pytest.mark.parametrize("name", DATASET_TESTS)
async def test_the_protocol_dataset_is_exactly_the_one_given(base_url, name):
    assert len(DATASET_TESTS) == 6
    for request in requests_of(name):
        default, named, query = _dataset(request)
        clauses = " ".join(_FROM.findall(query))  # the protocol's dataset overrides them
        for graph in graph_data():
            probes = {
                f"ASK {clauses} {{ <{graph}> a ?type }}": graph in default,
                f"ASK {clauses} {{ GRAPH ?g {{ <{graph}> a ?type }} }}": graph in named,
            }
            for probe, expected in probes.items():
                status, media, body = await send(base_url, _with_query(request, probe))
                assert status == 200, body
                assert boolean_of(media, body) is expected, (probe, default, named)
