"""The federated catalog on a node: `[crawler] enabled` in communs.toml opens it with the node
(served on /federation/sparql and /federation/catalog), a node without it answers 404 there,
and rewriting the configuration keeps the table."""

from __future__ import annotations

import dataclasses

import pytest

from connector.config import load, save
from connector.crawler.config import CrawlerConfig
from tests.nodes import client, free_port, init_node, serving

ASK = "ASK { ?s ?p ?o }"


@pytest.fixture
def folders(tmp_path):
    crawling = init_node(tmp_path / "crawling", registration="leiCode:529900T8BM49AURSDO55")
    # a ledger that does not answer: the node serves its (empty) federated catalog anyway
    crawler = CrawlerConfig(enabled=True, rpc_url=f"http://127.0.0.1:{free_port()}",
                            interval=3600.0)
    save(dataclasses.replace(load(crawling), crawler=crawler))
    plain = init_node(tmp_path / "plain", registration="leiCode:529900T8BM49AURSDO55")
    return crawling, plain


async def test_a_crawling_node_serves_the_federated_catalog(folders):
    crawling, plain = folders
    assert load(crawling).crawler.enabled and load(crawling).crawler.interval == 3600.0
    save(load(crawling))  # what `communs trust add` does: the [crawler] table stays
    assert "[crawler]" in (crawling / "communs.toml").read_text()
    async with serving(crawling) as node, client() as http:
        async with http.get(f"{node.public}/federation/sparql", params={"query": ASK},
                            headers={"Accept": "application/sparql-results+json"}) as response:
            assert response.status == 200, await response.text()
            assert isinstance((await response.json())["boolean"], bool)
        async with http.get(f"{node.public}/federation/catalog") as response:
            assert response.status == 200
    async with serving(plain) as node, client() as http:
        async with http.get(f"{node.public}/federation/sparql", params={"query": ASK}) as response:
            assert response.status == 404
            assert "no federated catalog" in await response.text()
