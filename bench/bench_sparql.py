"""Benchmark `/sparql` against `oxigraph serve` and an rdflib endpoint, in one run, over HTTP.

    .venv/bin/python bench/bench_sparql.py [--quick] [--datasets N] [--seconds S] [--concurrency C]

A deterministic synthetic DCAT catalog (100,000 datasets, about 1M triples; --quick: 10,000), one
named graph per dataset as the connector keeps it, is loaded into our store and into `oxigraph
serve` (the `oxigraph` package's own Rust HTTP server, --union-default-graph). Three typical
catalog queries run through HTTP with a fixed concurrency against each; every server runs in
its own process, the load generator in this one.

rdflib's engine is far too slow for the full catalog (minutes per aggregate query), so the
rdflib endpoint (an rdflib Dataset behind a minimal aiohttp handler) gets a subset, and its
ratio is taken against our endpoint serving the very same subset: same data, same queries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
BASE = "https://catalog.example"
THEMES = [
    "AGRI",
    "ECON",
    "EDUC",
    "ENER",
    "ENVI",
    "GOVE",
    "HEAL",
    "INTR",
    "JUST",
    "REGI",
    "SOCI",
    "TECH",
    "TRAN",
]
LICENCES = [
    "CC0-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "ODbL-1.0",
    "etalab-2.0",
    "dl-de-by-2.0",
    "OGL-UK-3.0",
    "proprietary",
]
WORDS = (
    "air quality water river traffic energy budget school hospital census election forest soil "
    "noise parking bicycle railway bus tram tax housing population climate weather emission waste "
    "recycling library museum park tourism crime court procurement grant subsidy salary road bridge "
    "harbour airport flood drought biodiversity species pollen ozone solar wind grid heat gas"
).split()
PUBLISHERS = 200
ROUNDS = 3  # turns each target takes per query

PREFIXES = f"PREFIX dcat: <{DCAT}> PREFIX dct: <{DCT}>\n"
QUERIES = {
    "keyword search": lambda i: (
        PREFIXES + "SELECT ?d ?title WHERE { ?d a dcat:Dataset ; dct:title ?title . "
        f'FILTER(CONTAINS(LCASE(?title), "{WORDS[i % len(WORDS)]} {WORDS[(i * 7 + 3) % len(WORDS)]}")) }} LIMIT 50'
    ),
    "by publisher": lambda i: (
        PREFIXES
        + f"SELECT ?d ?title ?issued WHERE {{ ?d dct:publisher <{BASE}/org/{i % PUBLISHERS}> ; "
        "dct:title ?title ; dct:issued ?issued } ORDER BY DESC(?issued) LIMIT 20"
    ),
    "counts per theme and licence": lambda i: (
        PREFIXES
        + "SELECT ?theme ?licence (COUNT(?d) AS ?n) WHERE { ?d dcat:theme ?theme ; dct:license ?licence } "
        "GROUP BY ?theme ?licence ORDER BY DESC(?n) ?theme ?licence"
    ),
}


# ---- data ------------------------------------------------------------------------------------


def catalog_nquads(datasets: int, path: Path) -> int:
    """Ten triples per dataset, each in the dataset's own named graph; returns the triple count."""
    rng = random.Random(42)
    lines = 0
    with path.open("w") as out:
        for i in range(datasets):
            d = f"<{BASE}/ds/{i}>"
            g = f"<{BASE}/graph/{i}>"
            words = rng.sample(WORDS, 4)
            title = f"{words[0].capitalize()} {words[1]} {words[2]} {i}"
            year, month, day = (
                2000 + rng.randrange(25),
                1 + rng.randrange(12),
                1 + rng.randrange(28),
            )
            triples = [
                ("<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", f"<{DCAT}Dataset>"),
                (f"<{DCT}title>", f'"{title}"@en'),
                (
                    f"<{DCT}description>",
                    f'"Open data on {" ".join(words)} published as dataset {i}."@en',
                ),
                (f"<{DCT}publisher>", f"<{BASE}/org/{rng.randrange(PUBLISHERS)}>"),
                (
                    f"<{DCT}issued>",
                    f'"{year:04d}-{month:02d}-{day:02d}"^^<http://www.w3.org/2001/XMLSchema#date>',
                ),
                (
                    f"<{DCAT}theme>",
                    f"<http://publications.europa.eu/resource/authority/data-theme/{rng.choice(THEMES)}>",
                ),
                (f"<{DCT}license>", f"<https://spdx.org/licenses/{rng.choice(LICENCES)}>"),
                (f"<{DCAT}keyword>", f'"{words[0]}"@en'),
                (f"<{DCAT}keyword>", f'"{words[3]}"@en'),
                (f"<{DCT}identifier>", f'"ds-{i}"'),
            ]
            out.write("".join(f"{d} {p} {o} {g} .\n" for p, o in triples))
            lines += len(triples)
    return lines


def subset(source: Path, datasets: int, target: Path) -> None:
    with source.open() as src, target.open("w") as out:
        for n, line in enumerate(src):
            if n >= datasets * 10:
                break
            out.write(line)


# ---- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def serve_ours(folder: Path, port: int, workers: int) -> None:
    from aiohttp import web

    from connector.sparql import SPARQL, Limits, SparqlSettings, open_sparql, public

    limits = Limits(timeout=60, workers=workers) if workers else Limits(timeout=60)
    settings = SparqlSettings(limits=limits)
    async with open_sparql(folder, settings) as service:
        app = web.Application()
        app[SPARQL] = service
        app.add_routes(public)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()


async def serve_rdflib(nquads: Path, port: int) -> None:
    from aiohttp import web
    from rdflib import Dataset

    graph = Dataset(default_union=True)
    graph.parse(nquads, format="nquads")

    async def handle(request: web.Request) -> web.Response:
        query = request.query.get("query") or (await request.post()).get("query")

        def run() -> bytes:
            return graph.query(query).serialize(format="json")

        return web.Response(
            body=await asyncio.to_thread(run), content_type="application/sparql-results+json"
        )

    app = web.Application()
    app.router.add_route("*", "/sparql", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def load_ours(nquads: Path, folder: Path) -> float:
    from connector.sparql.service import STORE_DIR
    from connector.sparql.store import RdfStore

    started = time.perf_counter()
    store = RdfStore.open(folder / STORE_DIR)
    asyncio.run(store.bulk_load(path=nquads, format="application/n-quads"))
    store.close()
    return time.perf_counter() - started


def start(cmd: list[str], port: int, what: str, timeout: float = 600) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{what} did not listen on port {port} in time")


# ---- load generator --------------------------------------------------------------------------


@dataclass
class Run:
    requests: int
    seconds: float
    latencies: list[float]
    rows: int

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))] * 1000


async def measure(url: str, make, seconds: float, concurrency: int, min_requests: int = 20) -> Run:
    headers = {"Accept": "application/sparql-results+json"}
    latencies: list[float] = []
    counter = 0
    rows = -1
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)
    ) as session:

        async def one(i: int) -> int:
            began = time.perf_counter()
            async with session.post(url, data={"query": make(i)}, headers=headers) as response:
                body = await response.read()
                if response.status != 200:
                    raise SystemExit(f"{url} answered {response.status}: {body[:300]!r}")
            latencies.append(time.perf_counter() - began)
            return len(json.loads(body)["results"]["bindings"])

        rows = await one(0)  # warm-up, and the row count to cross-check targets
        latencies.clear()
        started = time.perf_counter()
        hard_stop = started + 3 * seconds

        async def client() -> None:
            nonlocal counter
            while True:
                now = time.perf_counter()
                if now > hard_stop or (now - started > seconds and len(latencies) >= min_requests):
                    return
                counter += 1
                await one(counter)

        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Run(len(latencies), elapsed, latencies, rows)


async def interleaved(
    urls: dict[str, str], make, seconds: float, concurrency: int, rounds: int
) -> dict[str, Run]:
    """Short runs taking turns, so that a burst of load from elsewhere hits every target alike."""
    total = {k: Run(0, 0.0, [], -1) for k in urls}
    order = list(urls)
    for r in range(rounds):
        for target in order[r % len(order) :] + order[: r % len(order)]:
            run = await measure(urls[target], make, seconds / rounds, concurrency, min_requests=4)
            into = total[target]
            into.requests += run.requests
            into.seconds += run.seconds
            into.latencies += run.latencies
            into.rows = run.rows
    return total


def row(query: str, target: str, run: Run) -> str:
    return (
        f"{query:30} {target:26} {run.throughput:9.1f} {run.pct(0.5):9.1f} {run.pct(0.99):9.1f}"
        f" {run.requests:6d} {run.rows:5d}"
    )


# ---- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10,000 datasets, shorter runs")
    parser.add_argument("--datasets", type=int)
    parser.add_argument("--rdflib-datasets", type=int, help="the subset served by rdflib")
    parser.add_argument("--seconds", type=float, help="measuring time per query and target")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--workers", type=int, default=0, help="our query worker processes (default: the node's)"
    )
    parser.add_argument(
        "--serve-ours", nargs=3, metavar=("FOLDER", "PORT", "WORKERS"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--serve-rdflib", nargs=2, metavar=("NQUADS", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_ours:
        folder, port, workers = args.serve_ours
        asyncio.run(serve_ours(Path(folder), int(port), int(workers)))
        return
    if args.serve_rdflib:
        asyncio.run(serve_rdflib(Path(args.serve_rdflib[0]), int(args.serve_rdflib[1])))
        return

    from connector.sparql.engine import Limits

    datasets = args.datasets or (10_000 if args.quick else 100_000)
    small = args.rdflib_datasets or (1_000 if args.quick else 2_000)
    seconds = args.seconds or (3.0 if args.quick else 6.0)
    oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "oxigraph"
    )
    if not oxigraph:
        raise SystemExit("the oxigraph server is missing: pip install oxigraph")
    work = Path(tempfile.mkdtemp(prefix="bench-sparql-"))
    procs: list[subprocess.Popen] = []
    try:
        t = time.perf_counter()
        full, part = work / "catalog.nq", work / "subset.nq"
        triples = catalog_nquads(datasets, full)
        subset(full, small, part)
        print(
            f"catalog: {datasets} datasets, {triples} triples, generated in {time.perf_counter() - t:.1f} s"
        )
        print(
            f"cpus: {os.cpu_count()}, concurrency {args.concurrency}, our workers {args.workers or Limits().workers}, {seconds:g} s per run"
        )
        print(f"load: ours {load_ours(full, work / 'ours'):.1f} s", end="", flush=True)
        t = time.perf_counter()
        subprocess.run(
            [oxigraph, "load", "--location", str(work / "oxigraph"), "--file", str(full)],
            check=True,
            capture_output=True,
        )
        print(f", oxigraph {time.perf_counter() - t:.1f} s", end="", flush=True)
        load_ours(part, work / "ours-subset")
        print(f"; rdflib subset: {small} datasets ({small * 10} triples)")

        me = [sys.executable, str(Path(__file__).resolve())]
        ports = {name: free_port() for name in ("ours", "oxigraph", "ours-subset", "rdflib")}
        procs.append(
            start(
                [*me, "--serve-ours", str(work / "ours"), str(ports["ours"]), str(args.workers)],
                ports["ours"],
                "our endpoint",
            )
        )
        procs.append(
            start(
                [
                    oxigraph,
                    "serve",
                    "--location",
                    str(work / "oxigraph"),
                    "--bind",
                    f"127.0.0.1:{ports['oxigraph']}",
                    "--union-default-graph",
                ],
                ports["oxigraph"],
                "oxigraph serve",
            )
        )
        procs.append(
            start(
                [
                    *me,
                    "--serve-ours",
                    str(work / "ours-subset"),
                    str(ports["ours-subset"]),
                    str(args.workers),
                ],
                ports["ours-subset"],
                "our subset endpoint",
            )
        )
        procs.append(
            start(
                [*me, "--serve-rdflib", str(part), str(ports["rdflib"])],
                ports["rdflib"],
                "the rdflib endpoint",
            )
        )
        urls = {
            "ours": f"http://127.0.0.1:{ports['ours']}/sparql",
            "oxigraph": f"http://127.0.0.1:{ports['oxigraph']}/query",
            "ours-subset": f"http://127.0.0.1:{ports['ours-subset']}/sparql",
            "rdflib": f"http://127.0.0.1:{ports['rdflib']}/sparql",
        }

        print(
            f"\n{'query':30} {'target':26} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'n':>6} {'rows':>5}"
        )
        labels = {
            "oxigraph": "oxigraph serve",
            "ours": "communs /sparql",
            "rdflib": "rdflib (subset)",
            "ours-subset": "communs /sparql (subset)",
        }
        summary = {}
        for name, make in QUERIES.items():
            runs = asyncio.run(interleaved(urls, make, seconds, args.concurrency, ROUNDS))
            for target, label in labels.items():
                print(row(name, label, runs[target]), flush=True)
            if (
                runs["ours"].rows != runs["oxigraph"].rows
                or runs["ours-subset"].rows != runs["rdflib"].rows
            ):
                print(f"  WARNING: row counts differ: {[(k, r.rows) for k, r in runs.items()]}")
            summary[name] = {
                "vs_oxigraph": runs["ours"].throughput / runs["oxigraph"].throughput,
                "vs_rdflib": runs["ours-subset"].throughput / runs["rdflib"].throughput,
                "p50_ms": {k: round(r.pct(0.5), 2) for k, r in runs.items()},
                "p99_ms": {k: round(r.pct(0.99), 2) for k, r in runs.items()},
                "req_per_s": {k: round(r.throughput, 1) for k, r in runs.items()},
            }
        print("\nthroughput ratios (target: >= 0.8x oxigraph serve, >= 20x rdflib)")
        for name, s in summary.items():
            print(
                f"  {name:30} vs oxigraph serve {s['vs_oxigraph']:5.2f}x   vs rdflib {s['vs_rdflib']:7.1f}x"
            )
        print(
            "\n"
            + json.dumps(
                {
                    "datasets": datasets,
                    "triples": triples,
                    "rdflib_datasets": small,
                    "queries": summary,
                }
            )
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
