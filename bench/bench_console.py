"""The web console's pages on loopback, with 10,000 datasets in the node's catalog.

    .venv/bin/python bench/bench_console.py [--quick]

Each page's HTML over real HTTP, signed in (p50 of N requests, target <= 50 ms), against two
baselines measured in the same run: GET /health/live (the cheapest answer the node gives) and
the management API's JSON listing of the same page of datasets (/api/v1/datasets). Then the
first render of the datasets page in Chromium (navigation to the load event, target <= 1 s),
when /usr/bin/chromium and playwright are present.

Ratios are what to compare between runs: the machines here are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from bench.nodes import init  # noqa: E402
from connector.app.server import running_node  # noqa: E402
from connector.catalog import codec  # noqa: E402
from connector.catalog.model import Access, Dataset, Distribution, to_json  # noqa: E402
from connector.catalog.sql import catalog_datasets  # noqa: E402
from connector.config import load, read_token  # noqa: E402
from connector.node import open_node  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
OFFER = codec.offer_text({"@id": "urn:uuid:o", "@type": "Offer", "permission": [{"action": "use"}]})


def synthetic(n: int, did: str) -> Dataset:
    iri = f"urn:uuid:00000000-0000-0000-0000-{n:012d}"
    return Dataset(
        id=f"{n:032d}", iri=iri, title=f"Air quality station {n}", publisher=did, access=Access.MEMBERS,
        offers=(OFFER,), description=f"Hourly PM10 at station {n}.", keywords=("air", "pm10"),
        license="https://www.etalab.gouv.fr/licence-ouverte-open-licence",
        distributions=(Distribution(iri=f"{iri}#d", media_type="text/csv", byte_size=1000 + n),),
    )


async def fill(folder: Path, count: int) -> None:
    """COUNT datasets straight into the node's database (members-only: no SPARQL mirror to build)."""
    async with open_node(load(folder)) as node:
        async with node.database.engine.begin() as connection:
            for start in range(0, count, 5000):
                rows = []
                for n in range(start, min(count, start + 5000)):
                    d = synthetic(n, node.did)
                    rows.append({"id": d.id, "iri": d.iri, "access": d.access.value, "content_hash": d.fingerprint(),
                                 "modified": d.modified, "document": json.dumps(to_json(d))})
                await connection.execute(catalog_datasets.insert(), rows)


async def p50(http: aiohttp.ClientSession, url: str, rounds: int, headers: dict | None = None) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        async with http.get(url, headers=headers or {}) as response:
            await response.read()
            assert response.status == 200, (url, response.status)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def first_render(base: str, token: str) -> float | None:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        return None
    if not CHROMIUM.exists():
        return None
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = await browser.new_page(base_url=base)
        await page.goto("/signin")
        await page.get_by_label("Management token").fill(token)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(base + "/")
        started = time.perf_counter()
        await page.goto("/datasets?offset=5000", wait_until="load")
        elapsed = time.perf_counter() - started
        await browser.close()
        return elapsed * 1000


async def run(folder: Path, count: int, rounds: int) -> int:
    started = time.perf_counter()
    await fill(folder, count)
    print(f"{count} datasets written in {time.perf_counter() - started:.1f} s", flush=True)
    config = load(folder)
    token = read_token(folder)
    async with running_node(dataclasses.replace(config)) as running:
        base = f"http://127.0.0.1:{running.management_port}"
        public = f"http://127.0.0.1:{running.public_port}"
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.post(f"{base}/signin", data={"token": token}, allow_redirects=False) as response:
                assert response.status == 303
            async with http.get(f"{base}/datasets") as response:
                html = await response.text()
            one = re.search(r'href="/datasets/([0-9a-f]+)"', html).group(1)
            live = await p50(http, f"{public}/health/live", rounds)
            api = await p50(http, f"{base}/api/v1/datasets?offset=5000&limit=25", rounds,
                            {"Authorization": f"Bearer {token}"})
            print(f"baseline /health/live p50 {live:.2f} ms; API JSON page of 25 datasets p50 {api:.2f} ms")
            print(f"{'page':34} {'p50 ms':>8} {'x live':>8} {'x API':>8}")
            worst = 0.0
            for path in ("/", "/datasets", "/datasets?offset=5000", f"/datasets/{one}", "/sparql",
                         "/federation", "/negotiations", "/transfers", "/jobs"):
                took = await p50(http, base + path, rounds)
                worst = max(worst, took)
                print(f"{path[:34]:34} {took:8.2f} {took / live:8.1f} {took / api:8.2f}", flush=True)
        render = await first_render(base, token)
    print(f"slowest page p50 {worst:.2f} ms (target <= 50 ms)")
    if render is None:
        print("first render in the browser: skipped (no /usr/bin/chromium or no playwright)")
    else:
        print(f"first render of /datasets in Chromium {render:.0f} ms (target <= 1000 ms)")
    return 0 if worst <= 50 and (render is None or render <= 1000) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = init(Path(tmp) / "node", "Bench City")  # `communs init` runs its own event loop
        return asyncio.run(run(folder, 10_000, 20 if args.quick else 100))


if __name__ == "__main__":
    sys.exit(main())
