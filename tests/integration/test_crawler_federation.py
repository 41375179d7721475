"""The issue's crawler test on a real local federation (`communs federation up`, five
organizations, a real ledger): one member slow (a delaying proxy the registry points at), one
serving a tampered self-description, one with a catalog of 10,000 datasets. The federated
SPARQL endpoint, composed from the crawler's route table on a real server, answers with each
source's provenance; a changed dataset shows up after the next crawl, a withdrawn one goes.

Slow (a federation of five takes 30-40 s to start, the 10,000 datasets a while to crawl): the
unmarked variant is tests/unit/crawler/test_crawl.py with tests/integration/test_crawler_registry.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.bench_ledger_restart import free_base
from connector.crawler.config import CrawlerConfig
from connector.crawler.routes import public
from connector.crawler.service import CRAWLER, open_crawler, signer_of
from connector.federation.create import LEDGER_OFFSET
from connector.sparql.engine import Limits
from connector.sparql.service import SparqlSettings
from connector.sparql.share import Share
from tests.integration.crawler_members import point_registry, proxy, seed_catalog

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
ORGS = 5
BIG = 10_000
DELAY = 1.0  # seconds the slow member takes to answer each request


def communs(*argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector.cli.main", *argv], text=True,
                          capture_output=True, timeout=timeout)


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crawlfed") / "federation"
    base = free_base(LEDGER_OFFSET + 2 * ORGS)
    done = communs("federation", "up", "--dir", str(folder), "--orgs", str(ORGS),
                   "--base-port", str(base), "--detach", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    try:
        yield folder, shown["members"]
    finally:
        communs("federation", "down", "--dir", str(folder))


def sd_hash(folder: Path, member: dict) -> str:
    done = communs("ledger", "registry", "member", member["did"], "--dir",
                   str(Path(member["dir"]).parent / "validator"), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["sd_hash"]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(federation):
    folder, members = federation
    city, acme, big, slow, bad = members
    seed_catalog(Path(big["dir"]), big["did"], BIG)
    async with TestServer(proxy(slow["publicUrl"], delay=DELAY), host="127.0.0.1") as slow_front, \
            TestServer(proxy(bad["publicUrl"], tamper=True), host="127.0.0.1") as bad_front:
        for member, front in ((slow, slow_front), (bad, bad_front)):
            point_registry(folder, Path(member["dir"]).parent.name, member["did"],
                           str(front.make_url("")).rstrip("/"), sd_hash(folder, member))
        home = Path(city["dir"])
        config = CrawlerConfig(rpc_url=city["rpcUrl"], genesis=str(home.parent / "validator" / "genesis.json"),
                               request_timeout=20, member_timeout=240, concurrency=5)
        # the node's limits, with the time a loaded two-core machine needs for an aggregate
        # over 10,000 datasets from a checkpoint
        share = Share(running=2, waiting=8, timeout=60.0)
        settings = SparqlSettings(limits=Limits(anonymous=share, member=share))
        async with open_crawler(home, config, signer=signer_of(home), settings=settings,
                                public_url=city["publicUrl"]) as service:
            app = web.Application()
            app[CRAWLER] = service
            app.add_routes(public)
            async with TestServer(app, host="127.0.0.1") as front, aiohttp.ClientSession() as http:
                yield members, service, str(front.make_url("")).rstrip("/"), http


async def select(http: aiohttp.ClientSession, base: str, query: str) -> list[dict]:
    async with http.post(f"{base}/federation/sparql", data={"query": query},
                         headers={"Accept": "application/sparql-results+json"}) as r:
        assert r.status == 200, await r.text()
        return [{k: v["value"] for k, v in row.items()} for row in (await r.json())["results"]["bindings"]]


PREFIXES = """PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX c: <https://w3id.org/communs/crawl#>
"""


@pytest.mark.timeout(900)
async def test_the_federation_is_crawled_with_provenance(world) -> None:
    members, service, base, http = world
    city, acme, big, slow, bad = members
    started = time.monotonic()
    report = await service.run_once()
    by_did = {m.did: m for m in report.members}
    assert report.verified and len(report.members) == ORGS
    assert not any(m.failures for m in report.members), [m.failures for m in report.members]
    assert by_did[big["did"]].datasets == BIG
    assert by_did[slow["did"]].seconds >= 4 * DELAY  # slow, and crawled whole all the same
    assert sorted(by_did[slow["did"]].changed) == ["dcat", "did", "dsp-catalog", "self-description"]
    problems = " ".join(by_did[bad["did"]].invalid["self-description"])
    assert "[signature]" in problems and "[registry]" in problems
    assert all(not m.invalid for d, m in by_did.items() if d != bad["did"])
    assert time.monotonic() - started < 600

    rows = await select(http, base, PREFIXES + """
        SELECT ?who ?source (COUNT(?d) AS ?n) WHERE {
          GRAPH ?g { ?d a dcat:Dataset }
          GRAPH <urn:communs:federation:provenance> {
            ?g c:kind "dcat" ; prov:wasAttributedTo ?who ; dct:source ?source ; c:fetchedAt ?at } }
        GROUP BY ?who ?source""")
    counts = {r["who"]: int(r["n"]) for r in rows}
    assert counts[big["did"]] == BIG
    assert {r["source"] for r in rows if r["who"] == big["did"]} == {f"{big['publicUrl']}/catalog?limit=500"}
    rows = await select(http, base, PREFIXES + """
        SELECT ?who ?v WHERE { GRAPH <urn:communs:federation:provenance> {
          ?g c:kind "self-description" ; c:validation ?v ; prov:wasAttributedTo ?who } }""")
    assert {r["who"]: r["v"] for r in rows} == {m["did"]: "invalid" if m is bad else "conforms" for m in members}


@pytest.mark.timeout(900)
async def test_a_changed_dataset_shows_up_and_a_withdrawn_one_goes(world, tmp_path) -> None:
    members, service, base, http = world
    city, acme, big, slow, bad = members
    await service.run_once()
    data = tmp_path / "stops.csv"
    data.write_text("stop,line\nBellecour,A\n")
    done = communs("publish", str(data), "--dir", acme["dir"], "--title", "Tram stops", "--json")
    assert done.returncode == 0, done.stderr
    dataset = json.loads(done.stdout)["id"]
    report = await service.run_once()
    changed = {m.did: sorted(m.changed) for m in report.members}
    assert changed[acme["did"]] == ["dcat", "dsp-catalog"] and changed[big["did"]] == []
    title_query = PREFIXES + """SELECT ?t ?who WHERE { GRAPH ?g { ?d dct:title ?t FILTER(STRSTARTS(?t, "Tram")) }
        GRAPH <urn:communs:federation:provenance> { ?g prov:wasAttributedTo ?who } }"""
    assert {(r["t"], r["who"]) for r in await select(http, base, title_query)} == {("Tram stops", acme["did"])}

    done = communs("datasets", "update", dataset, "--dir", acme["dir"], "--title", "Tram stops 2027")
    assert done.returncode == 0, done.stderr
    await service.run_once()
    assert {r["t"] for r in await select(http, base, title_query)} == {"Tram stops 2027"}

    done = communs("datasets", "withdraw", dataset, "--dir", acme["dir"])
    assert done.returncode == 0, done.stderr
    await service.run_once()
    assert await select(http, base, title_query) == []
