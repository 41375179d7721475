"""The connector on the ledger, against itself without it, in the same run (issue 14):

    .venv/bin/python bench/bench_ledger_connector.py [--quick]

Two nodes on four real validator processes, both founding members of the registry.
- Membership on a DSP request: the same authenticated catalog request, the provider deciding
  membership by the ledger's registry (proven, kept fresh block by block) against the same
  provider with static trust only. Target: at most 1 ms added at the median.
- Paid usage: negotiation + payment + transfer start of a dataset priced per use, against the
  same of an open dataset. Target: the extra time at most one block interval + 50 ms (the
  block interval measured during the run).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ledger import start_cpu_hog  # noqa: E402
from connector.auth.client import dsp_request  # noqa: E402
from connector.auth.resources import AUTH  # noqa: E402
from tests.integration.ledgered import Federation  # noqa: E402
from tests.nodes import client, serving  # noqa: E402

CATALOG = {"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
           "@type": "CatalogRequestMessage", "filter": []}


async def _catalog_ms(consumer, provider, rounds: int) -> list[float]:
    node = consumer.running.node
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        async with dsp_request(node.session, "POST", f"{provider.public}/dsp/catalog/request",
                               signer=node.signer, json=CATALOG) as r:
            assert r.status == 200, await r.text()
            await r.read()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def _publish(http, node, path: Path, policy: str) -> dict:
    body = {"source": str(path), "title": f"Bench {policy}", "policy": policy}
    async with http.post(f"{node.management}/api/v1/datasets", json=body, headers=node.auth) as r:
        assert r.status == 201, await r.text()
        return await r.json()


async def _poll(http, node, path: str, done) -> dict:  # type: ignore[no-untyped-def]
    while True:
        async with http.get(node.management + path, headers=node.auth) as r:
            found = await r.json()
        if done(found):
            return found
        await asyncio.sleep(0.02)


async def _use_s(http, consumer, provider, dataset_id: str) -> float:
    """Seconds from asking for an agreement to the transfer's start (paid: payment included)."""
    started = time.perf_counter()
    body = {"providerUrl": provider.public, "datasetId": dataset_id}
    async with http.post(f"{consumer.management}/api/v1/negotiations", json=body, headers=consumer.auth) as r:
        negotiation = await r.json()
    agreed = await _poll(http, consumer, f"/api/v1/negotiations/{negotiation['id']}",
                         lambda f: f["state"] in ("FINALIZED", "TERMINATED"))
    assert agreed["state"] == "FINALIZED", agreed
    body = {"providerUrl": provider.public, "agreementId": agreed["agreementId"], "format": "HttpData-PULL"}
    async with http.post(f"{consumer.management}/api/v1/transfers", json=body, headers=consumer.auth) as r:
        assert r.status == 201, await r.text()
        transfer = await r.json()
    found = await _poll(http, consumer, f"/api/v1/transfers/{transfer['id']}",
                        lambda f: f["state"] in ("STARTED", "TERMINATED"))
    assert found["state"] == "STARTED", found
    return time.perf_counter() - started


async def run(fed: Federation, rounds: int, uses: int) -> None:
    city_dir, acme_dir = fed.nodes["city"], fed.nodes["acme"]
    (city_dir / "data").mkdir(exist_ok=True)
    sample = city_dir / "data" / "bench.csv"
    sample.write_text("a,b\n1,2\n")
    async with serving(city_dir) as city, serving(acme_dir) as acme, client() as http:
        await _publish(http, city, sample, "open")
        verifier = city.running.public_app[AUTH].verifier
        registry = verifier.registry
        await _catalog_ms(acme, city, 20)  # warm: DID documents, credentials, registry view
        static, ledger = [], []
        for _ in range(5):  # interleaved, so that a noisy neighbour weighs on both alike
            verifier.registry = None
            static += await _catalog_ms(acme, city, rounds)
            verifier.registry = registry
            ledger += await _catalog_ms(acme, city, rounds)
        s, lg = statistics.median(static), statistics.median(ledger)
        print(f"membership: catalog request p50 {lg:.2f} ms by the registry vs {s:.2f} ms static "
              f"trust: {lg - s:+.2f} ms added (ratio {lg / s:.2f}; target <= 1 ms added)")

        paid = await _publish(http, city, sample, "paid:1com")
        free = await _publish(http, city, sample, "open")
        h0, t0 = await asyncio.to_thread(fed.net.height, 0), time.perf_counter()
        paid_s, free_s = [], []
        for _ in range(uses):
            free_s.append(await _use_s(http, acme, city, free["id"]))
            paid_s.append(await _use_s(http, acme, city, paid["id"]))
        interval = (time.perf_counter() - t0) / max(1, await asyncio.to_thread(fed.net.height, 0) - h0)
        p, f = statistics.median(paid_s), statistics.median(free_s)
        extra = p - f
        print(f"paid use: negotiation + payment + transfer start {p * 1000:.0f} ms vs {f * 1000:.0f} ms "
              f"unpaid (ratio {p / f:.2f}): {extra * 1000:+.0f} ms extra; block interval "
              f"{interval * 1000:.0f} ms; target <= {interval * 1000 + 50:.0f} ms extra: "
              f"{'met' if extra <= interval + 0.05 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cpu-hog", action="store_true", help="with a CPU-bound process beside")
    args = parser.parse_args()
    hog = start_cpu_hog() if args.cpu_hog else None
    with tempfile.TemporaryDirectory() as tmp:
        fed = Federation(Path(tmp), ["city", "acme"], founders=2)
        fed.start()
        try:
            asyncio.run(run(fed, 20 if args.quick else 100, 3 if args.quick else 10))
        finally:
            fed.stop()
            if hog is not None:
                hog.kill()


if __name__ == "__main__":
    main()
