"""Benchmark `/sparql` against `oxigraph serve` and an rdflib endpoint, in one run, over HTTP.

    .venv/bin/python bench/bench_sparql.py [--quick] [--datasets N] [--seconds S] [--concurrency C]
                                           [--rdflib-datasets N | --no-rdflib] [--workers W]

A deterministic synthetic DCAT catalog (100,000 datasets, about 1M triples; --quick: 10,000), one
named graph per dataset as the connector keeps it, is loaded into our store and into `oxigraph
serve` (the `oxigraph` package's own Rust HTTP server, its defaults plus --union-default-graph).
Three typical catalog queries run through HTTP with a fixed concurrency, the same client and
the same result format (SPARQL JSON) against each; every server runs in its own process, the
load generator in this one. Targets:

- communs /sparql as a node runs it: query workers with in-memory replicas, measured once they
  are built (the time that takes is printed; the node serves from checkpoints meanwhile);
- communs /sparql with replicas off (queries on RocksDB checkpoints): the engine before replicas;
- oxigraph serve;
- rdflib: an rdflib Dataset behind a minimal aiohttp handler, on the same full data by default
  (loading 1M triples takes minutes and ~2 GB; its queries take seconds, so it gets one round of
  `concurrency` requests per query); --rdflib-datasets N compares it instead with our endpoint
  serving the very same N-dataset subset.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
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


async def serve_ours(folder: Path, port: int, workers: int, replicas: bool) -> None:
    from aiohttp import web

    from connector.sparql import SPARQL, Limits, Share, SparqlSettings, open_sparql, public

    workers = workers or Limits().workers
    # the load generator calls from one address: give it the whole endpoint, not one caller's share
    one_caller = Share(running=workers, waiting=1024, timeout=60)
    limits = Limits(anonymous=one_caller, member=one_caller, workers=workers)
    if not replicas:
        limits = dataclasses.replace(limits, replica_max_bytes=0)
    settings = SparqlSettings(limits=limits)
    async with open_sparql(folder, settings) as service:
        if replicas:
            # the node answers meanwhile (from checkpoints); the bench measures the steady state
            # and the parent reports how long this took (it waits for the port)
            await service.engine.execute("ASK {}", [("*/*", 1.0)])
            deadline = time.monotonic() + 900
            while service.engine.replicated < limits.workers and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
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
    from rdflib.plugins.sparql import prepareQuery

    parsing = threading.Lock()

    graph = Dataset(default_union=True)
    graph.parse(nquads, format="nquads")
    # rdflib initializes its SPARQL machinery lazily, and not thread-safely: once, before serving
    graph.query("ASK { ?s ?p ?o }").serialize(format="json")

    async def handle(request: web.Request) -> web.Response:
        query = request.query.get("query") or (await request.post()).get("query")

        def run() -> bytes:
            with parsing:  # rdflib's pyparsing grammar is not thread-safe; evaluation is
                prepared = prepareQuery(query)
            return graph.query(prepared).serialize(format="json")

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
    rows: dict[int, int]  # result rows by query variant, to cross-check the targets

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))] * 1000


async def measure(
    url: str, make, seconds: float, concurrency: int, min_requests: int = 20, warmup: bool = True
) -> Run:
    headers = {"Accept": "application/sparql-results+json"}
    latencies: list[float] = []
    counter = 0
    rows: dict[int, int] = {}
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
            rows[i] = len(json.loads(body)["results"]["bindings"])
            return rows[i]

        if warmup:
            await one(0)
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
    total = {k: Run(0, 0.0, [], {}) for k in urls}
    order = list(urls)
    for r in range(rounds):
        for target in order[r % len(order) :] + order[: r % len(order)]:
            run = await measure(urls[target], make, seconds / rounds, concurrency, min_requests=4)
            into = total[target]
            into.requests += run.requests
            into.seconds += run.seconds
            into.latencies += run.latencies
            into.rows.update(run.rows)
    return total


def disagreement(runs: dict[str, Run], targets: set[str]) -> dict | None:
    """Row counts that differ between targets for the same query variant, if any."""
    present = [runs[t] for t in targets if t in runs]
    for i in set.intersection(*(set(r.rows) for r in present)) if present else ():
        counts = {t: runs[t].rows[i] for t in targets if t in runs}
        if len(set(counts.values())) > 1:
            return {"variant": i, **counts}
    return None


def row(query: str, target: str, run: Run) -> str:
    return (
        f"{query:30} {target:26} {run.throughput:9.1f} {run.pct(0.5):9.1f} {run.pct(0.99):9.1f}"
        f" {run.requests:6d} {run.rows.get(1, -1):5d}"
    )


# ---- main ------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (our endpoint's query workers)."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += int(rss_mb(int(child)) * 1e6)
    except OSError:
        pass
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10,000 datasets, shorter runs")
    parser.add_argument("--datasets", type=int)
    parser.add_argument(
        "--rdflib-datasets", type=int, help="a subset for rdflib (default: the same full data)"
    )
    parser.add_argument("--seconds", type=float, help="measuring time per query and target")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--workers", type=int, default=0, help="our query worker processes (default: the node's)"
    )
    parser.add_argument("--no-rdflib", action="store_true", help="skip the rdflib comparison")
    parser.add_argument(
        "--serve-ours",
        nargs=4,
        metavar=("FOLDER", "PORT", "WORKERS", "REPLICAS"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--serve-rdflib", nargs=2, metavar=("NQUADS", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_ours:
        folder, port, workers, replicas = args.serve_ours
        asyncio.run(serve_ours(Path(folder), int(port), int(workers), replicas == "1"))
        return
    if args.serve_rdflib:
        asyncio.run(serve_rdflib(Path(args.serve_rdflib[0]), int(args.serve_rdflib[1])))
        return

    from connector.sparql.engine import Limits

    datasets = args.datasets or (10_000 if args.quick else 100_000)
    small = min(args.rdflib_datasets or datasets, datasets)
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
        print(
            f"catalog: {datasets} datasets, {triples} triples, generated in {time.perf_counter() - t:.1f} s"
        )
        print(
            f"cpus: {os.cpu_count()}, concurrency {args.concurrency}, our workers {args.workers or Limits().workers}, {seconds:g} s per run"
        )
        print(f"load: ours {load_ours(full, work / 'ours'):.1f} s", end="", flush=True)
        shutil.copytree(work / "ours", work / "ours-disk")
        t = time.perf_counter()
        subprocess.run(
            [oxigraph, "load", "--location", str(work / "oxigraph"), "--file", str(full)],
            check=True,
            capture_output=True,
        )
        print(f", oxigraph {time.perf_counter() - t:.1f} s", flush=True)
        if small < datasets:
            subset(full, small, part)
            load_ours(part, work / "ours-subset")

        me = [sys.executable, str(Path(__file__).resolve())]
        names = ["ours", "ours-disk", "oxigraph"] + (["ours-subset"] if small < datasets else [])
        ports = {name: free_port() for name in [*names, "rdflib"]}
        pids: dict[str, int] = {}

        def ours(name: str, replicas: bool) -> None:
            cmd = [*me, "--serve-ours", str(work / name), str(ports[name]), str(args.workers)]
            t = time.perf_counter()
            procs.append(start([*cmd, "1" if replicas else "0"], ports[name], name))
            pids[name] = procs[-1].pid
            if replicas:
                print(
                    f"ours: in-memory replicas built in {time.perf_counter() - t:.1f} s "
                    f"(the node answers from checkpoints meanwhile); "
                    f"RSS with its workers {rss_mb(pids[name]):.0f} MB",
                    flush=True,
                )

        ours("ours", True)
        ours("ours-disk", False)
        print(f"ours without replicas: RSS with its workers {rss_mb(pids['ours-disk']):.0f} MB")
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
        pids["oxigraph"] = procs[-1].pid
        if small < datasets:
            ours("ours-subset", True)
        if not args.no_rdflib:
            t = time.perf_counter()
            rdflib_data = part if small < datasets else full
            procs.append(
                start(
                    [*me, "--serve-rdflib", str(rdflib_data), str(ports["rdflib"])],
                    ports["rdflib"],
                    "the rdflib endpoint",
                    timeout=1800,
                )
            )
            pids["rdflib"] = procs[-1].pid
            print(
                f"rdflib: {small} datasets ({small * 10} triples) parsed in "
                f"{time.perf_counter() - t:.1f} s, RSS {rss_mb(pids['rdflib']):.0f} MB",
                flush=True,
            )
        urls = {name: f"http://127.0.0.1:{ports[name]}/sparql" for name in names}
        urls["oxigraph"] = f"http://127.0.0.1:{ports['oxigraph']}/query"
        rdflib_url = f"http://127.0.0.1:{ports['rdflib']}/sparql"
        # the rdflib baseline: ours on the very same data
        rdflib_peer = "ours-subset" if small < datasets else "ours"
        labels = {
            "ours": "communs /sparql",
            "ours-disk": "communs, no replicas",
            "oxigraph": "oxigraph serve",
            "ours-subset": "communs /sparql (subset)",
            "rdflib": "rdflib" + (" (subset)" if small < datasets else ""),
        }

        print(
            f"\n{'query':30} {'target':26} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'n':>6} {'rows':>5}"
        )
        summary = {}
        for name, make in QUERIES.items():
            runs = asyncio.run(interleaved(urls, make, seconds, args.concurrency, ROUNDS))
            if not args.no_rdflib:
                # seconds per request on the full data: one round of `concurrency` requests
                runs["rdflib"] = asyncio.run(
                    measure(
                        rdflib_url,
                        make,
                        seconds / ROUNDS,
                        args.concurrency,
                        min_requests=args.concurrency,
                        warmup=small < datasets,
                    )
                )
            for target, run in runs.items():
                print(row(name, labels[target], run), flush=True)
            mismatch = disagreement(runs, {"ours", "ours-disk", "oxigraph"}) or disagreement(
                runs, {"rdflib", rdflib_peer}
            )
            if mismatch:
                print(f"  WARNING: row counts differ: {mismatch}")
            ox_tp = runs["oxigraph"].throughput
            summary[name] = {
                "vs_oxigraph": runs["ours"].throughput / ox_tp,
                "no_replicas_vs_oxigraph": runs["ours-disk"].throughput / ox_tp,
                "p50_ms": {k: round(r.pct(0.5), 2) for k, r in runs.items()},
                "p99_ms": {k: round(r.pct(0.99), 2) for k, r in runs.items()},
                "req_per_s": {k: round(r.throughput, 2) for k, r in runs.items()},
                "requests": {k: r.requests for k, r in runs.items()},
            }
            if "rdflib" in runs:
                summary[name]["vs_rdflib"] = (
                    runs[rdflib_peer].throughput / runs["rdflib"].throughput
                )
                summary[name]["no_replicas_vs_rdflib"] = (
                    runs["ours-disk"].throughput / runs["rdflib"].throughput
                    if small == datasets
                    else None
                )
        compared = "the same full data" if small == datasets else f"the same {small}-dataset subset"
        if args.no_rdflib:
            compared = "not measured"
        print(
            f"\nthroughput ratios, uncached, {args.concurrency} concurrent clients "
            f"(targets: >= 0.8x oxigraph serve, >= 20x rdflib; rdflib on {compared})"
        )
        print(
            f"  {'':30} {'vs oxigraph':>12} {'vs rdflib':>10}   {'no replicas: vs oxigraph':>24} {'vs rdflib':>10}"
        )
        for name, s in summary.items():
            rd = f"{s['vs_rdflib']:9.1f}x" if "vs_rdflib" in s else f"{'-':>10}"
            rd0 = s.get("no_replicas_vs_rdflib")
            rd0s = f"{rd0:9.1f}x" if rd0 else f"{'-':>10}"
            print(
                f"  {name:30} {s['vs_oxigraph']:11.2f}x {rd}   {s['no_replicas_vs_oxigraph']:23.2f}x {rd0s}"
            )
        print(
            "\n"
            + json.dumps(
                {
                    "datasets": datasets,
                    "triples": triples,
                    "rdflib_datasets": None if args.no_rdflib else small,
                    "concurrency": args.concurrency,
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
