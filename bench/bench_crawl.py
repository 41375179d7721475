"""The federated catalog's crawl and its SPARQL endpoint, each against a baseline measured in
the same run.

    .venv/bin/python bench/bench_crawl.py [--quick] [--orgs N] [--datasets D]

A real local federation (`communs federation up --orgs N`: connectors, validators, a ledger
whose registry lists them); each member's catalog seeded with D datasets through its store.
Default 10 x 10,000 (--quick: 3 x 2,000). Measured:

1. a first crawl of every member (registry verified against the genesis; DID document,
   self-description validated, DSP catalog as a member, DCAT export; all pages) into the
   embedded store. Target <= 60 s for 10 x 10,000. Baseline: fetching the same pages and
   nothing else (what the members themselves take to answer), concurrently.
2. a re-crawl after 1% of every member's datasets changed (spread: one in 100, so every page
   changed). Target <= 5 s. Also: a re-crawl with nothing changed, and one after 1% changed
   together (the first in id order: one page of each source changed).
3. federated SPARQL over the crawled graphs (/federation/sparql on a real aiohttp server,
   composed from the crawler's route table) against `oxigraph serve` holding the same quads.
   Target: ours >= 0.8x oxigraph's throughput (ratio = oxigraph's time / ours).

Ratios are what to compare between runs: the machines here are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
import pyoxigraph as ox  # noqa: E402
from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from bench.bench_catalog import synthetic  # noqa: E402
from bench.bench_ledger_restart import free_base  # noqa: E402
from connector.auth.client import authorization  # noqa: E402
from connector.catalog.model import to_json  # noqa: E402
from connector.crawler.config import CrawlerConfig  # noqa: E402
from connector.crawler.routes import public  # noqa: E402
from connector.crawler.service import CRAWLER, open_crawler, signer_of  # noqa: E402
from connector.federation.create import LEDGER_OFFSET  # noqa: E402
from connector.sparql.engine import Limits  # noqa: E402
from connector.sparql.service import SparqlSettings  # noqa: E402
from connector.sparql.share import Share  # noqa: E402

CRAWL_TARGET, RECRAWL_TARGET, SPARQL_TARGET = 60.0, 5.0, 0.8
PREFIXES = """PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX c: <https://w3id.org/communs/crawl#>
"""
QUERIES = {
    "count per member, with provenance": PREFIXES + """SELECT ?who (COUNT(?d) AS ?n) WHERE {
        GRAPH ?g { ?d a dcat:Dataset }
        GRAPH <urn:communs:federation:provenance> { ?g prov:wasAttributedTo ?who ; c:kind "dcat" } }
        GROUP BY ?who""",
    "title search": PREFIXES + """SELECT ?d ?t WHERE { ?d dct:title ?t
        FILTER(CONTAINS(?t, "station 1234")) } LIMIT 20""",
    "one dataset": PREFIXES + "SELECT ?p ?o WHERE { <https://seed.example/m0/42> ?p ?o }",
    "keyword page": PREFIXES + """SELECT ?d ?t WHERE { ?d dcat:keyword "pm10" ; dct:title ?t }
        ORDER BY ?d LIMIT 100""",
}


def communs(*argv: str) -> str:
    done = subprocess.run([sys.executable, "-m", "connector.cli.main", *argv], check=True,
                          capture_output=True, text=True)
    return done.stdout


def seed_catalog(connector: Path, did: str, count: int, prefix: str = "https://seed.example/") -> None:
    """COUNT public datasets written straight into a node's SQLite catalog (what an import
    stores, without its validation): the serving node answers with them at once."""
    rows = []
    for n in range(count):
        d = dataclasses.replace(synthetic(n), publisher=did, iri=f"{prefix}{n}")
        rows.append((d.id, d.iri, d.access.value, d.fingerprint(), d.modified.isoformat(sep=" "),
                     json.dumps(to_json(d))))
    with sqlite3.connect(connector / "communs.db", timeout=30) as db:
        db.executemany("INSERT INTO catalog_datasets (id, iri, access, content_hash, modified, "
                       "document) VALUES (?, ?, ?, ?, ?, ?)", rows)


async def change_share(member: dict, count: int, every: int, round_: int, clustered: bool = False) -> int:
    """Retitle one seeded dataset in EVERY through the node's management API (what an operator
    does; a write behind a serving node's back is not what it serves); how many changed.
    CLUSTERED: as many, but the first ones in id order (a batch edited together), not spread."""
    token = Path(member["tokenFile"]).read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    limit = asyncio.Semaphore(8)

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        async with limit, session.patch(f"{member['managementUrl']}/api/v1/datasets/{n:08d}",
                                        json={"title": f"Air quality station {n} (revised {round_})"},
                                        headers=headers) as r:
            assert r.status == 200, await r.text()

    async with aiohttp.ClientSession() as session:
        changed = range(0, count // every) if clustered else range(0, count, every)
        await asyncio.gather(*(one(session, n) for n in changed))
    return len(changed)


async def fetch_only(members: list[dict], signer, page_size: int) -> float:
    """The baseline: every page of every member's DSP catalog and DCAT export, fetched
    concurrently and thrown away."""
    message = {"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
               "@type": "CatalogRequestMessage", "filter": []}

    async def pages(session: aiohttp.ClientSession, url: str, did: str | None) -> None:
        next_url: str | None = url
        while next_url:
            if did:
                call = session.post(next_url, json=message,
                                    headers={"Authorization": authorization(signer, did)})
            else:
                call = session.get(next_url, headers={"Accept": "application/n-triples"})
            async with call as r:
                await r.read()
                link = r.links.get("next", {}).get("url")
                next_url = str(link) if link else None

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(pages(session, f"{m['publicUrl']}/dsp/catalog/request?limit={page_size}", m["did"])
                               for m in members),
                             *(pages(session, f"{m['publicUrl']}/catalog?limit={page_size}", None)
                               for m in members))
    return time.perf_counter() - started


async def timed_queries(http: aiohttp.ClientSession, url: str, rounds: int) -> dict[str, float]:
    out = {}
    for name, query in QUERIES.items():
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            async with http.post(url, data={"query": query},
                                 headers={"Accept": "application/sparql-results+json"}) as r:
                body = await r.read()
                if r.status != 200:
                    raise RuntimeError(f"{url} answered {r.status} to {name!r}: {body[:200]!r}")
            times.append(time.perf_counter() - started)
        out[name] = statistics.median(times)
    return out


def progress(result: dict) -> None:
    print(json.dumps(result), file=sys.stderr, flush=True)  # what is known, should a later step fail


async def run(options: argparse.Namespace, folder: Path, members: list[dict]) -> dict:
    city = members[0]
    home = Path(city["dir"])
    signer = signer_of(home)
    config = CrawlerConfig(rpc_url=city["rpcUrl"], genesis=str(home.parent / "validator" / "genesis.json"),
                           concurrency=len(members), request_timeout=60, member_timeout=600)
    result: dict = {"orgs": len(members), "datasets_per_org": options.datasets}
    result["fetch_only_s"] = round(await fetch_only(members, signer, config.page_size), 2)
    # the crawls as a scheduled crawler makes them (one process, what it learnt kept), without
    # the query workers, whose in-memory replicas are rebuilt after each write
    async with open_crawler(home, config, signer=signer, serve=False) as service:
        started = time.perf_counter()
        report = await service.run_once()
        result["crawl_s"] = round(time.perf_counter() - started, 2)
        result["crawl_datasets"] = report.to_json()["datasets"]
        result["crawl_failures"] = {m.did: m.failures for m in report.members if m.failures}
        result["crawl_vs_fetch_only"] = round(result["crawl_s"] / result["fetch_only_s"], 2)
        progress(result)
        started = time.perf_counter()
        await service.run_once()
        result["recrawl_unchanged_s"] = round(time.perf_counter() - started, 2)
        progress(result)
        changed = sum(await asyncio.gather(*(change_share(m, options.datasets, 100, 1) for m in members)))
        started = time.perf_counter()
        report = await service.run_once()
        result["recrawl_1pct_s"] = round(time.perf_counter() - started, 2)
        result["recrawl_1pct_changed_datasets"] = changed
        result["recrawl_1pct_sources_rewritten"] = sum(len(m.changed) for m in report.members)
        progress(result)
        await asyncio.gather(*(change_share(m, options.datasets, 100, 2, clustered=True) for m in members))
        started = time.perf_counter()
        await service.run_once()
        result["recrawl_1pct_clustered_s"] = round(time.perf_counter() - started, 2)
        progress(result)
    # the endpoint's engine as a node runs it, with a query time long enough for both sides
    # to answer every query (oxigraph serve has no limit): what is compared is speed
    share = Share(running=2, waiting=8, timeout=300.0)
    settings = SparqlSettings(limits=Limits(anonymous=share, member=share))
    async with open_crawler(home, config, signer=signer, public_url=city["publicUrl"],
                            settings=settings) as service:
        app = web.Application()
        app[CRAWLER] = service
        app.add_routes(public)
        dump = folder / "crawled.nq"
        assert service.sparql is not None
        await asyncio.to_thread(service.sparql.store.store.dump, str(dump), ox.RdfFormat.N_QUADS)
        oxi = folder / "oxigraph"
        oxigraph = str(Path(sys.executable).parent / "oxigraph")
        subprocess.run([oxigraph, "load", "--location", str(oxi), "--file", str(dump)], check=True,
                       capture_output=True)
        port = free_base(1)
        server = subprocess.Popen([oxigraph, "serve", "--location", str(oxi), "--bind",
                                   f"127.0.0.1:{port}", "--union-default-graph"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            engine = service.sparql.engine
            size = sum(f.stat().st_size for f in service.sparql.store.path.iterdir() if f.is_file())
            deadline = time.monotonic() + (120 if size < engine.limits.replica_max_bytes else 0)
            while engine.replicated < engine.limits.workers and time.monotonic() < deadline:
                await asyncio.sleep(1)
            result["replicas_ready"] = engine.replicated
            result["store_bytes"] = size
            async with TestServer(app, host="127.0.0.1") as front, aiohttp.ClientSession() as http:
                ours_url = str(front.make_url("/federation/sparql"))
                oxi_url = f"http://127.0.0.1:{port}/query"
                for _ in range(60):
                    try:
                        async with http.get(oxi_url, params={"query": "ASK {}"}) as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.5)
                rounds = 5 if options.quick else 15
                await timed_queries(http, ours_url, 2)  # warm both
                await timed_queries(http, oxi_url, 2)
                ours = await timed_queries(http, ours_url, rounds)
                theirs = await timed_queries(http, oxi_url, rounds)
        finally:
            server.terminate()
            server.wait(30)
        result["sparql_ms"] = {name: {"ours": round(ours[name] * 1000, 1),
                                      "oxigraph_serve": round(theirs[name] * 1000, 1)} for name in QUERIES}
        result["sparql_vs_oxigraph"] = round(sum(theirs.values()) / sum(ours.values()), 2)
    result["targets_met"] = {
        "crawl": result["crawl_s"] <= CRAWL_TARGET,
        "recrawl_1pct": result["recrawl_1pct_s"] <= RECRAWL_TARGET,
        "sparql": result["sparql_vs_oxigraph"] >= SPARQL_TARGET,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="3 organizations x 2,000 datasets")
    parser.add_argument("--orgs", type=int, default=None)
    parser.add_argument("--datasets", type=int, default=None)
    options = parser.parse_args()
    orgs = options.orgs or (3 if options.quick else 10)
    options.datasets = options.datasets or (2_000 if options.quick else 10_000)
    with tempfile.TemporaryDirectory(prefix="communs-bench-crawl-") as work:
        folder = Path(work)
        federation = folder / "federation"
        base = free_base(LEDGER_OFFSET + 2 * orgs)
        started = time.perf_counter()
        shown = json.loads(communs("federation", "up", "--dir", str(federation), "--orgs", str(orgs),
                                   "--base-port", str(base), "--detach", "--json"))
        up = time.perf_counter() - started
        try:
            members = shown["members"]
            for i, m in enumerate(members):
                seed_catalog(Path(m["dir"]), m["did"], options.datasets, f"https://seed.example/m{i}/")
            result = asyncio.run(run(options, folder, members))
            result["federation_up_s"] = round(up, 1)
        finally:
            subprocess.run([sys.executable, "-m", "connector.cli.main", "federation", "down",
                            "--dir", str(federation)], capture_output=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
