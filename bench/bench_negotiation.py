"""Contract negotiations per second between two real nodes on loopback, with automatic decisions.

    .venv/bin/python bench/bench_negotiation.py [--quick] [--count N] [--concurrency C]

The provider is a `communs serve` process with one open dataset; the consumer node runs in this
process and starts negotiations as `communs negotiate` does (the dataset is fetched from the
provider's DSP catalog, then the request goes out). Each negotiation is timed from its start
to the moment the consumer holds it FINALIZED: five DCP-authenticated DSP requests (dataset,
request, agreement, verification, finalized), every step persisted with its outbox on both sides.

Three runs: one at a time (what a user waits); COUNT with CONCURRENCY in flight (default 4:
the target asks for both >= 100/s and p50 <= 50 ms, and in-flight / rate is the latency, so
a handful in flight is what meets both); then COUNT with 16 in flight (the throughput when
callers pile up, mostly queueing). The CPU each node spends per negotiation is read from the
kernel's accounting.

The ceiling is the raw HTTP round trip measured in the same run: an aiohttp client posting a
small JSON body to an aiohttp server in another process, at the same concurrency. A
negotiation needs five round trips, so the ceiling is that rate / 5; the ratio says how much
of the hardware's HTTP capacity the protocol, its authentication and its persistence leave.
The ODRL decisions per second for a 10-rule policy are measured by `bench_odrl.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from nodes import free_port, init  # noqa: E402

from connector.app.server import running_node  # noqa: E402
from connector.config import load, read_token  # noqa: E402
from connector.negotiation.manager import NEGOTIATIONS  # noqa: E402
from connector.negotiation.model import Role, State  # noqa: E402

ROUND_TRIPS = 5  # DSP requests per negotiation

ECHO = """
import sys
from aiohttp import web
async def echo(request):
    return web.json_response(await request.json())
app = web.Application()
app.router.add_post("/echo", echo)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

@contextlib.asynccontextmanager
async def process(*argv: str, ready: str) -> AsyncIterator[subprocess.Popen[bytes]]:
    """A child process, serving once READY answers."""
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(ready) as response:
                        if response.status < 500:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError(f"{argv} did not start")
                await asyncio.sleep(0.1)
        yield child
    finally:
        child.terminate()
        child.wait(10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def raw_round_trips(concurrency: int, total: int) -> float:
    port = free_port()
    async with process(sys.executable, "-c", ECHO, str(port), ready=f"http://127.0.0.1:{port}/nothing"), \
            aiohttp.ClientSession() as http:
        body = {"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"], "@type": "ContractRequestMessage",
                "consumerPid": "urn:uuid:1", "offer": {"@id": "urn:uuid:2", "permission": [{"action": "use"}]}}

        async def worker(n: int) -> None:
            for _ in range(n):
                async with http.post(f"http://127.0.0.1:{port}/echo", json=body) as response:
                    await response.read()

        await worker(50)  # warm up
        started = time.perf_counter()
        await asyncio.gather(*(worker(total // concurrency) for _ in range(concurrency)))
        return (total // concurrency * concurrency) / (time.perf_counter() - started)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    rate: float  # completed negotiations per second
    latencies: list[float]
    cpu_ms: tuple[float, float]  # (provider, consumer) CPU per negotiation


async def negotiations(provider_dir: Path, consumer_dir: Path, count: int, concurrency: int) -> list[Run]:
    """One at a time, then COUNT at CONCURRENCY, then COUNT at 16 in flight."""
    provider = load(provider_dir)
    serve = (sys.executable, "-m", "connector.cli.main", "serve", "--dir", str(provider_dir))
    async with process(*serve, ready=f"{provider.public_url}/health/live") as child, \
            running_node(load(consumer_dir)) as consumer, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {read_token(provider_dir)}"}
        body = {"source": str(provider_dir / "data" / "air.csv"), "title": "Air quality", "policy": "open"}
        async with http.post(f"{provider.management_url}/api/v1/datasets", json=body, headers=headers) as response:
            assert response.status == 201, await response.text()
            dataset = (await response.json())["id"]

        service = consumer.public_app[NEGOTIATIONS]
        finished: dict[str, asyncio.Future[State]] = {}
        receive = service.receive

        async def observed(*args, **kwargs):  # the consumer's inbound messages: spot the end
            status, n = await receive(*args, **kwargs)
            if n.role is Role.CONSUMER and n.state.final and n.id in finished and not finished[n.id].done():
                finished[n.id].set_result(n.state)
            return status, n

        service.receive = observed

        async def one(latencies: list[float]) -> None:
            started = time.perf_counter()
            n = await service.start(provider.public_url, dataset)
            finished[n.id] = done = asyncio.get_running_loop().create_future()
            try:
                state = await asyncio.wait_for(done, 60)
            except TimeoutError:
                raise RuntimeError(f"negotiation {n.id} stuck: {await service.store.get(n.id)}") from None
            del finished[n.id]
            assert state is State.FINALIZED, state
            latencies.append(time.perf_counter() - started)

        async def run(total: int, in_flight: int) -> Run:
            latencies: list[float] = []

            async def worker(n: int) -> None:
                for _ in range(n):
                    await one(latencies)

            cpu = cpu_seconds(child.pid), time.process_time()
            started = time.perf_counter()
            await asyncio.gather(*(worker(total // in_flight) for _ in range(in_flight)))
            elapsed = time.perf_counter() - started
            spent = cpu_seconds(child.pid) - cpu[0], time.process_time() - cpu[1]
            done = len(latencies)
            return Run(done / elapsed, latencies, (spent[0] / done * 1000, spent[1] / done * 1000))

        await run(30, 1)  # warm up: DID documents, presentations, grants and connections cached
        return [await run(max(20, count // 10), 1), await run(count, concurrency), await run(count, 16)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--count", type=int)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    count = args.count or (200 if args.quick else 1000)
    with tempfile.TemporaryDirectory() as tmp:
        provider_dir, consumer_dir = init(Path(tmp) / "provider", "Open City"), init(Path(tmp) / "consumer", "ACME SAS")
        (provider_dir / "data").mkdir()
        (provider_dir / "data" / "air.csv").write_text("station,pm10\nA,12\n")
        raw = asyncio.run(raw_round_trips(args.concurrency, 4000 if args.quick else 10000))
        alone, target, piled = asyncio.run(negotiations(provider_dir, consumer_dir, count, args.concurrency))
    ceiling = raw / ROUND_TRIPS
    ms = lambda run, q: percentile(run.latencies, q) * 1000  # noqa: E731
    p50, p99 = ms(target, 0.5), ms(target, 0.99)
    print(f"one at a time ({len(alone.latencies)}):    p50 {ms(alone, 0.5):.1f} ms, p99 {ms(alone, 0.99):.1f} ms")
    print(f"negotiations: {len(target.latencies)}, {args.concurrency} in flight")
    print(f"raw HTTP round trips:       {raw:8.0f}/s  -> ceiling {ceiling:.0f} negotiations/s ({ROUND_TRIPS} round trips each)")
    print(f"completed negotiations:     {target.rate:8.1f}/s  (target >= 100/s): {'met' if target.rate >= 100 else 'MISSED'}")
    print(f"ratio to the ceiling:       {target.rate / ceiling:8.2f}")
    print(f"latency p50 {p50:.1f} ms (target <= 50 ms): {'met' if p50 <= 50 else 'MISSED'}; p99 {p99:.1f} ms")
    print(f"CPU per negotiation:        provider {target.cpu_ms[0]:.1f} ms, consumer {target.cpu_ms[1]:.1f} ms")
    print(f"16 in flight:               {piled.rate:8.1f}/s, p50 {ms(piled, 0.5):.0f} ms, p99 {ms(piled, 0.99):.0f} ms")
    print(json.dumps({"rate": target.rate, "ceiling": ceiling, "ratio": target.rate / ceiling, "p50_ms": p50,
                      "p99_ms": p99, "alone_p50_ms": ms(alone, 0.5), "alone_p99_ms": ms(alone, 0.99),
                      "cpu_ms": target.cpu_ms, "rate_16": piled.rate, "p50_16_ms": ms(piled, 0.5)}))


if __name__ == "__main__":
    main()
