"""Contract negotiations per second between two real nodes on loopback, with automatic decisions.

    .venv/bin/python bench/bench_negotiation.py [--quick] [--count N] [--concurrency C]

The provider is a `communs serve` process with one open dataset; the consumer node runs in this
process and starts negotiations as `communs negotiate` does (the dataset is fetched from the
provider's DSP catalog, then the request goes out). Each negotiation is timed from its start
to the moment the consumer holds it FINALIZED: five DCP-authenticated DSP requests (dataset,
request, agreement, verification, finalized), every step persisted with its outbox on both sides.

Latency is measured twice: one negotiation at a time (what a user waits), then under load
(CONCURRENCY in flight, where it is mostly queueing: in-flight / rate).

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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
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
async def process(*argv: str, ready: str) -> AsyncIterator[None]:
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
        yield
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


async def negotiations(provider_dir: Path, consumer_dir: Path, count: int, concurrency: int) -> tuple[list[float], float, list[float]]:
    """Latencies one at a time, then the rate and latencies of COUNT at CONCURRENCY."""
    provider = load(provider_dir)
    serve = (sys.executable, "-m", "connector.cli.main", "serve", "--dir", str(provider_dir))
    async with process(*serve, ready=f"{provider.public_url}/health/live"), running_node(load(consumer_dir)) as consumer, \
            aiohttp.ClientSession() as http:
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
        latencies: list[float] = []

        async def one() -> None:
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

        async def worker(n: int) -> None:
            for _ in range(n):
                await one()

        await worker(10)  # warm up: DID documents, presentations and connections cached
        latencies.clear()
        await worker(max(20, count // 10))
        alone = list(latencies)
        latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(worker(count // concurrency) for _ in range(concurrency)))
        return alone, len(latencies) / (time.perf_counter() - started), latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--count", type=int)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    count = args.count or (200 if args.quick else 1000)
    with tempfile.TemporaryDirectory() as tmp:
        provider_dir, consumer_dir = init(Path(tmp) / "provider", "Open City"), init(Path(tmp) / "consumer", "ACME SAS")
        (provider_dir / "data").mkdir()
        (provider_dir / "data" / "air.csv").write_text("station,pm10\nA,12\n")
        raw = asyncio.run(raw_round_trips(args.concurrency, 4000 if args.quick else 10000))
        alone, rate, latencies = asyncio.run(negotiations(provider_dir, consumer_dir, count, args.concurrency))
    ceiling = raw / ROUND_TRIPS
    p50, p99 = statistics.median(latencies) * 1000, percentile(latencies, 0.99) * 1000
    alone_p50, alone_p99 = statistics.median(alone) * 1000, percentile(alone, 0.99) * 1000
    print(f"one at a time ({len(alone)}):  p50 {alone_p50:.1f} ms, p99 {alone_p99:.1f} ms")
    print(f"negotiations: {len(latencies)}, {args.concurrency} at a time")
    print(f"raw HTTP round trips:       {raw:8.0f}/s  -> ceiling {ceiling:.0f} negotiations/s ({ROUND_TRIPS} round trips each)")
    print(f"completed negotiations:     {rate:8.1f}/s  (target >= 100/s): {'met' if rate >= 100 else 'MISSED'}")
    print(f"ratio to the ceiling:       {rate / ceiling:8.2f}")
    print(f"latency p50 {p50:.1f} ms (target <= 50 ms): {'met' if p50 <= 50 else 'MISSED'}; p99 {p99:.1f} ms")
    print(json.dumps({"rate": rate, "ceiling": ceiling, "ratio": rate / ceiling, "p50_ms": p50, "p99_ms": p99,
                      "alone_p50_ms": alone_p50, "alone_p99_ms": alone_p99}))


if __name__ == "__main__":
    main()
