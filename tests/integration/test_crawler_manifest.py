"""A re-crawl of a member serving manifests asks each manifest conditionally: nothing changed
costs one answer per catalog, and a change fetches only the changed datasets, patching the
graphs into exactly what a fresh crawl stores."""

from __future__ import annotations

from urllib.parse import unquote

import pyoxigraph as ox
import pytest
from aiohttp.test_utils import TestServer

from connector.crawler.config import CrawlerConfig
from connector.crawler.graphs import graph_name
from connector.crawler.members import MemberRecord, Registry
from connector.crawler.service import open_crawler
from tests.integration.crawler_members import proxy, seed_catalog
from tests.nodes import client, init_node, serving

CATALOGS = ("dcat", "dsp-catalog")


def graph(service, kind: str, did: str) -> set[ox.Quad]:
    store = service.crawler.store.store.store
    return set(store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name(kind, did))))


def catalog_requests(seen: list[str]) -> list[str]:
    return [unquote(s) for s in seen if "/catalog" in s]


@pytest.fixture
def folder(tmp_path):
    return init_node(tmp_path / "node", registration="leiCode:529900T8BM49AURSDO55")


async def test_a_recrawl_fetches_only_what_changed(folder, tmp_path) -> None:
    async with serving(folder) as node, client() as http:
        seed_catalog(folder, node.did, 12)
        seen: list[str] = []
        async with TestServer(proxy(node.public, seen=seen), host="127.0.0.1") as front:
            member = MemberRecord(node.did, str(front.make_url("")).rstrip("/"), "0" * 64, "member", False)
            registry = Registry(7, (member,))
            config = CrawlerConfig(page_size=5, request_timeout=10)
            async with open_crawler(tmp_path / "crawler", config, serve=False) as service:
                (first,) = (await service.crawler.crawl(registry)).members
                assert set(CATALOGS) <= set(first.changed) and first.datasets == 12, first.failures
                assert sum("/catalog/request?" in s for s in seen) == 3  # 12 datasets, 5 a page

                seen.clear()
                (again,) = (await service.crawler.crawl(registry)).members
                assert set(CATALOGS) <= set(again.unchanged)
                assert sorted(catalog_requests(seen)) == ["GET /catalog/manifest", "GET /dsp/catalog/manifest"]

                async with http.patch(f"{node.management}/api/v1/datasets/00000003", headers=node.auth,
                                      json={"title": "Air quality station 3 (revised)"}) as r:
                    assert r.status == 200, await r.text()
                async with http.delete(f"{node.management}/api/v1/datasets/00000005", headers=node.auth) as r:
                    assert r.status in (200, 204), await r.text()
                seen.clear()
                (third,) = (await service.crawler.crawl(registry)).members
                assert set(CATALOGS) <= set(third.changed) and third.datasets == 11, third.failures
                assert sorted(catalog_requests(seen)) == [
                    "GET /catalog/manifest", "GET /catalog?dataset=https://seed.example/3",
                    "GET /dsp/catalog/manifest", "POST /dsp/catalog/request"]
                patched = {kind: graph(service, kind, node.did) for kind in CATALOGS}

            async with open_crawler(tmp_path / "fresh", config, serve=False) as fresh:
                await fresh.crawler.crawl(registry)
                for kind in CATALOGS:
                    assert patched[kind] == graph(fresh, kind, node.did), kind
            titles = {q.object.value for q in patched["dcat"]
                      if q.predicate.value == "http://purl.org/dc/terms/title"}
            assert "Air quality station 3 (revised)" in titles
            assert "Air quality station 5" not in titles and "Air quality station 4" in titles
