"""The crawler writing to an external SPARQL 1.1 store, a real `oxigraph serve` process: each
source PUT as its own graph (Graph Store Protocol), provenance by SPARQL Update, a changed
source rewritten, a member gone DELETEd."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from connector.crawler.config import CrawlerConfig
from connector.crawler.graphs import PROVENANCE, graph_name
from connector.crawler.service import open_crawler
from tests.unit.crawler.oxigraph_server import BINARY, oxigraph_serve
from tests.unit.crawler.served import Member, registry

pytestmark = pytest.mark.skipif(not BINARY.exists(), reason="the oxigraph package is not installed")


async def select(http: aiohttp.ClientSession, base: str, query: str) -> list[dict]:
    async with http.post(f"{base}/query", data={"query": query},
                         headers={"Accept": "application/sparql-results+json"}) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["results"]["bindings"]


async def test_a_crawl_into_oxigraph_serve(tmp_path: Path) -> None:
    member = Member()
    async with TestServer(member.app(), host="127.0.0.1") as server:
        member.url = str(server.make_url("")).rstrip("/")
        with oxigraph_serve(tmp_path / "oxigraph") as store:
            config = CrawlerConfig(page_size=2, graph_store_url=f"{store}/store",
                                   update_url=f"{store}/update", store_url=f"{store}/query")
            async with open_crawler(tmp_path / "node", config) as service, \
                    aiohttp.ClientSession() as http:
                assert service.sparql is None  # the external store answers queries itself
                report = await service.crawler.crawl(registry(member))
                assert sorted(report.members[0].changed) == ["dcat", "did", "dsp-catalog", "self-description"]
                title = "<http://purl.org/dc/terms/title>"
                dcat = graph_name("dcat", member.did)
                rows = await select(http, store, f"SELECT ?t WHERE {{ GRAPH <{dcat}> {{ ?d {title} ?t }} }} ORDER BY ?t")
                assert [r["t"]["value"] for r in rows] == ["Air", "Bikes", "Canals"]
                rows = await select(http, store, f"SELECT ?w WHERE {{ GRAPH <{PROVENANCE}> {{ <{dcat}> "
                                                 f"<http://www.w3.org/ns/prov#wasAttributedTo> ?w }} }}")
                assert [r["w"]["value"] for r in rows] == [member.did]

                member.titles["a"] = "Air quality"
                del member.titles["b"]
                changed = (await service.crawler.crawl(registry(member))).members[0]
                assert sorted(changed.changed) == ["dcat", "dsp-catalog"]
                rows = await select(http, store, f"SELECT ?t WHERE {{ GRAPH <{dcat}> {{ ?d {title} ?t }} }} ORDER BY ?t")
                assert [r["t"]["value"] for r in rows] == ["Air quality", "Canals"]

                gone = await service.crawler.crawl(registry(member, status="removed"))
                assert len(gone.removed) == 4
                rows = await select(http, store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
                assert [r["g"]["value"] for r in rows] == []  # provenance of nothing is empty too
