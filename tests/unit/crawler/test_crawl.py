"""A crawl against members served on loopback (no ledger: the registry is handed in as the
value the ledger would answer), then the federated endpoint and export over what it stored,
through a real aiohttp server composed from the crawler's route table."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pyoxigraph as ox
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connector.crawler.config import CrawlerConfig
from connector.crawler.graphs import PROVENANCE, graph_name
from connector.crawler.members import MemberRecord, Registry
from connector.crawler.routes import public
from connector.crawler.service import CRAWLER, open_crawler
from connector.identity.did import did_web_from_url
from connector.sparql.engine import Limits
from connector.sparql.service import SparqlSettings
from tests.unit.crawler.served import NT, Member, registry


@pytest.fixture
async def world(tmp_path: Path):
    member = Member()
    async with TestServer(member.app(), host="127.0.0.1") as server:
        member.url = str(server.make_url("")).rstrip("/")
        config = CrawlerConfig(page_size=2, request_timeout=5)
        settings = SparqlSettings(limits=Limits(workers=1, replica_max_bytes=0))  # light on CPU
        async with open_crawler(tmp_path, config, public_url="http://crawler.example",
                                settings=settings) as service:
            app = web.Application()
            app[CRAWLER] = service
            app.add_routes(public)
            async with TestServer(app, host="127.0.0.1") as front, aiohttp.ClientSession() as http:
                yield member, service, str(front.make_url("")).rstrip("/"), http


async def select(http: aiohttp.ClientSession, base: str, query: str) -> list[dict]:
    async with http.post(f"{base}/federation/sparql", data={"query": query},
                         headers={"Accept": "application/sparql-results+json"}) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["results"]["bindings"]


async def test_a_crawl_stores_each_source_with_its_provenance(world) -> None:
    member, service, base, http = world
    report = await service.crawler.crawl(registry(member))
    (m,) = report.members
    assert sorted(m.changed) == ["dcat", "did", "dsp-catalog", "self-description"]
    assert m.datasets == 4 and not m.failures  # the DSP catalog: members-only included
    assert "self-description" in m.invalid  # not a self-description at all: flagged, kept
    rows = await select(http, base, f"""
        PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?title ?g ?source ?who ?at WHERE {{
          GRAPH ?g {{ ?d dct:title ?title }}
          GRAPH <{PROVENANCE}> {{ ?g dct:source ?source ; prov:wasAttributedTo ?who ;
                                      prov:generatedAtTime ?at }} }} ORDER BY ?title""")
    assert [r["title"]["value"] for r in rows] == ["Air", "Bikes", "Canals"]  # public graphs only
    assert {r["g"]["value"] for r in rows} == {graph_name("dcat", member.did)}
    assert {r["source"]["value"] for r in rows} == {f"{member.url}/catalog?limit=2"}
    assert {r["who"]["value"] for r in rows} == {member.did}
    rows = await select(http, base, f"""SELECT ?v WHERE {{ GRAPH <{PROVENANCE}> {{
        <{graph_name('self-description', member.did)}> <https://w3id.org/communs/crawl#validation> ?v }} }}""")
    assert [r["v"]["value"] for r in rows] == ["invalid"]


async def test_members_only_datasets_stay_invisible_to_anonymous_callers(world) -> None:
    member, service, base, http = world
    await service.crawler.crawl(registry(member))
    hidden = graph_name("dsp-catalog", member.did)
    asked = f"SELECT ?t FROM NAMED <{hidden}> WHERE {{ GRAPH ?g {{ ?d ?p ?t }} }}"
    assert await select(http, base, asked) == []
    asked = f"SELECT ?t FROM <{hidden}> WHERE {{ ?d ?p ?t }}"
    assert await select(http, base, asked) == []
    rows = await select(http, base, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert hidden not in {r["g"]["value"] for r in rows} and len(rows) == 3  # did, dcat, provenance
    public = graph_name("dcat", member.did)
    rows = await select(http, base, f"SELECT ?t FROM <{public}> WHERE {{ ?d <http://purl.org/dc/terms/title> ?t }}")
    assert len(rows) == 3
    # FROM written tight keeps its meaning too: the DID document has no titles
    did = graph_name("did", member.did)
    assert await select(http, base, f"SELECT ?t FROM<{did}> WHERE {{ ?d <http://purl.org/dc/terms/title> ?t }}") == []
    assert await select(http, base, 'SELECT ?d WHERE { ?d ?p "Members only" }') == []


async def test_the_next_crawl_rewrites_only_what_changed(world) -> None:
    member, service, base, http = world
    await service.crawler.crawl(registry(member))
    again = (await service.crawler.crawl(registry(member))).members[0]
    assert again.changed == [] and sorted(again.unchanged) == ["dcat", "did", "dsp-catalog", "self-description"]
    member.titles["b"] = "Bicycles"  # changed
    del member.titles["c"]  # withdrawn
    third = (await service.crawler.crawl(registry(member))).members[0]
    assert sorted(third.changed) == ["dcat", "dsp-catalog"] and third.datasets == 3
    rows = await select(http, base, "SELECT ?t WHERE { ?d <http://purl.org/dc/terms/title> ?t } ORDER BY ?t")
    assert [r["t"]["value"] for r in rows] == ["Air", "Bicycles"]


async def test_a_member_gone_from_the_registry_loses_its_graphs(world) -> None:
    member, service, base, http = world
    await service.crawler.crawl(registry(member))
    report = await service.crawler.crawl(registry(member, status="suspended"))
    assert len(report.removed) == 4
    rest = f"SELECT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{PROVENANCE}>) }}"
    assert await select(http, base, rest) == []
    assert service.crawler.states == {}


async def test_the_export_pages_the_public_datasets_for_harvesters(world) -> None:
    member, service, base, http = world
    await service.crawler.crawl(registry(member))
    async with http.get(f"{base}/federation/catalog?limit=2", headers={"Accept": NT}) as r:
        assert r.status == 200 and r.content_type == NT
        first = await r.text()
        assert r.links["next"]["url"].query_string == "offset=2&limit=2"
    assert first.count("<http://www.w3.org/ns/dcat#dataset>") == 2
    assert "<http://www.w3.org/ns/hydra/core#totalItems> \"3\"" in first
    async with http.get(f"{base}/federation/catalog?offset=2&limit=2", headers={"Accept": "text/turtle"}) as r:
        assert r.status == 200 and "Canals" in await r.text() and "next" not in r.links
    assert "Members only" not in first
    async with http.get(f"{base}/federation/catalog?limit=0") as r:
        assert r.status == 400
    async with http.get(f"{base}/federation/catalog", headers={"Accept": "image/png"}) as r:
        assert r.status == 406


async def test_sparql_protocol_errors_and_updates_are_refused(world) -> None:
    member, service, base, http = world
    async with http.post(f"{base}/federation/sparql", data={"update": "DROP ALL"}) as r:
        assert r.status == 403
    async with http.get(f"{base}/federation/sparql", params={"query": "SELECT * WHERE {"}) as r:
        assert r.status == 400
    async with http.get(f"{base}/federation/sparql", headers={"Accept": "text/turtle"}) as r:
        assert r.status == 200 and "sparql-service-description" in await r.text()


async def test_a_member_that_never_answers_does_not_stall_the_crawl(world, tmp_path: Path) -> None:
    member, service, base, http = world
    stuck = web.Application()

    async def never(request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        return web.Response()

    stuck.router.add_route("*", "/{tail:.*}", never)
    async with TestServer(stuck, host="127.0.0.1") as s:
        url = str(s.make_url("")).rstrip("/")
        hung = MemberRecord(did_web_from_url(url), url, "0" * 64, "member", False)
        service.crawler.ctx.config = CrawlerConfig(page_size=2, request_timeout=0.5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        report = await service.crawler.crawl(Registry(8, (*registry(member).members, hung)))
        assert loop.time() - started < 8
    ok, bad = report.members
    assert not ok.failures and ok.datasets == 4
    assert set(bad.failures) == {"did", "self-description", "dsp-catalog", "dcat"}
    assert all("took longer than 0.5 s" in why for why in bad.failures.values())
    assert json.dumps(report.to_json())  # the report is JSON as `crawl --json` prints it


async def test_a_dsp_page_as_before_is_asked_conditionally_and_not_fetched_again(world) -> None:
    member, service, base, http = world
    member.dsp_page = 2  # pages (a, b) and (c, m)
    await service.crawler.crawl(registry(member))
    member.dsp_requests.clear()
    member.titles["b"] = "Bicycles"  # the first page changes, the second does not
    report = (await service.crawler.crawl(registry(member))).members[0]
    assert "dsp-catalog" in report.changed and report.datasets == 4
    second = [(path, tag) for path, tag in member.dsp_requests if "offset=2" in path]
    assert len(second) == 1 and second[0][1]  # asked once, conditionally (412: as before)
    hidden = graph_name("dsp-catalog", member.did)
    quads = service.sparql.store.store.quads_for_pattern(None, None, None, ox.NamedNode(hidden))
    titles = sorted(q.object.value for q in quads if q.predicate.value == "http://purl.org/dc/terms/title")
    assert titles == ["Air", "Bicycles", "Canals", "Members only"]  # the kept page included


async def test_an_export_page_as_before_is_taken_from_memory_when_another_changed(world) -> None:
    member, service, base, http = world
    member.etags = True  # pages (a, b) and (c)
    await service.crawler.crawl(registry(member))
    member.export_requests.clear()
    member.titles["a"] = "Air quality"  # the first page changes, the second does not
    report = (await service.crawler.crawl(registry(member))).members[0]
    assert "dcat" in report.changed
    second = [(path, tag) for path, tag in member.export_requests if "offset=2" in path]
    assert len(second) == 1 and second[0][1]  # asked once, conditionally (304: as before)
    rows = await select(http, base, f"""SELECT ?t FROM <{graph_name('dcat', member.did)}>
        WHERE {{ ?d <http://purl.org/dc/terms/title> ?t }} ORDER BY ?t""")
    assert [r["t"]["value"] for r in rows] == ["Air quality", "Bikes", "Canals"]
