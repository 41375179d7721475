"""The console in a real browser (Debian's Chromium driven by Playwright) against real nodes:
sign in, publish by upload and see the dataset listed, run a SPARQL query and read the table,
and approve a pending negotiation from the provider's console while the consumer waits.
Screenshots of each page go to build/console-screenshots/."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
import pytest_asyncio

from connector.catalog.resources import CATALOG
from connector.config import load, save
from connector.crawler.config import CrawlerConfig
from connector.crawler.members import ACTIVE, MemberRecord, Registry
from connector.crawler.service import CRAWLER
from connector.negotiation.manager import NEGOTIATIONS
from connector.selfdescription.digest import claims_digest
from connector.selfdescription.publisher import Framework
from tests.console.browser import ARGS, CHROMIUM, shot
from tests.console.test_sessions import session_for, signed_in
from tests.nodes import free_port, init_federation, serving

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip install playwright)")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: run .ci/browsers.sh"),
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    anchor, provider, member = init_federation(tmp_path_factory)
    save(dataclasses.replace(load(provider), provider_decisions="manual"))  # the operator decides
    # the member runs the federated catalog (its ledger is not reached: the test crawls by hand)
    crawler = CrawlerConfig(enabled=True, rpc_url=f"http://127.0.0.1:{free_port()}", interval=3600.0)
    save(dataclasses.replace(load(member), crawler=crawler))
    return anchor, provider, member


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def nodes(folders):
    anchor, provider, member = folders
    async with serving(anchor), serving(provider) as p, serving(member) as m:
        yield p, m


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser():
    async with playwright_api.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        await launched.close()


async def console_of(browser, node):
    """NODE's console in a fresh browser context, signed in."""
    context = await browser.new_context(base_url=node.management, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []  # a script error or a Content-Security-Policy violation shows here
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto("/")
    await page.get_by_label("Management token").fill(node.token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(node.management + "/")
    return page


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def provider_page(browser, nodes):
    """The provider's console, signed in once for the module."""
    page = await console_of(browser, nodes[0])
    yield page
    await page.context.close()


async def published(node, title: str, keywords: tuple[str, ...] = ()) -> str:
    """A dataset of NODE's, published through its catalog service (each test its own: the
    tests of this module may run in different workers)."""
    async def chunks():
        yield b"station,level\nPont Wilson,2.1\n"

    dataset = await node.running.management_app[CATALOG].publish_upload(
        "levels.csv", chunks(), title=title, keywords=keywords)
    return dataset.id


async def test_sign_in_shows_the_overview(provider_page, nodes):
    provider, _ = nodes
    page = provider_page
    started = time.perf_counter()
    await page.goto("/")
    assert await page.get_by_role("heading", name="Open City").is_visible()
    assert time.perf_counter() - started < 1.0  # first render of the page in the browser
    assert provider.did in await page.locator("dl.facts").inner_text()
    await shot(page, "overview")


async def test_publish_by_upload_and_see_it_listed(provider_page, tmp_path):
    page = provider_page
    data = tmp_path / "bikes.csv"
    data.write_text("station,bikes\nGare,12\n" * 2000)
    await page.goto("/datasets")
    await page.get_by_label("Title").fill("Bike stations")
    await page.get_by_label("Keywords (separated by commas)").fill("mobility, bikes")
    await page.get_by_label("Usage policy").select_option("odrl")
    await page.get_by_label("ODRL policy (JSON-LD)").fill('{"permission": ')
    await page.wait_for_selector("#check-result >> text=not usable")
    await page.get_by_label("Usage policy").select_option("open")
    await page.get_by_label("File").set_input_files(str(data))
    await shot(page, "datasets-publish")
    await page.get_by_role("button", name="Publish").click()
    await page.wait_for_url("**/datasets/*?published=1")
    assert "The dataset was published." in await page.locator("[role=status]").inner_text()
    await shot(page, "dataset")
    await page.goto("/datasets")
    assert await page.get_by_role("link", name="Bike stations").is_visible()
    await shot(page, "datasets")


async def test_run_a_sparql_query_and_read_the_table(provider_page, nodes):
    page = provider_page
    await published(nodes[0], "River levels")
    await page.goto("/sparql")
    await page.get_by_label("Query").fill('SELECT ?title WHERE { ?d a dcat:Dataset ; dct:title ?title } ORDER BY ?title')
    await page.get_by_role("button", name="Run").click()
    await page.wait_for_selector("#results")
    cells = await page.locator("#results tbody td").all_inner_texts()
    assert "River levels" in cells
    await shot(page, "sparql")


async def test_approve_a_pending_negotiation_while_the_consumer_waits(provider_page, nodes):
    provider, member = nodes
    page = provider_page
    public = await provider_page.context.request.get(f"{provider.public}/catalog", headers={"Accept": "application/n-triples"})
    assert public.ok
    dataset_id = await published(provider, "Parking occupancy")
    consumer = member.running.management_app[NEGOTIATIONS]
    started = await consumer.start(provider.public, dataset_id)

    async def consumer_waits() -> str:  # what `communs negotiate --wait` does
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = await consumer.store.get(started.id)
            if found.state.final:
                return found.state.value
            await asyncio.sleep(0.1)
        return "still waiting"

    waiting = asyncio.create_task(consumer_waits())
    for _ in range(2):  # agree (REQUESTED -> AGREED), then finalize (VERIFIED -> FINALIZED)
        deadline = time.monotonic() + 15
        while True:
            await page.goto("/negotiations?pending=1")
            agree = page.get_by_role("button", name="Agree").first
            if await agree.count() or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        await shot(page, "negotiations")
        await agree.click()
        await page.wait_for_url("**/negotiations/*?agreed=1")
    assert await asyncio.wait_for(waiting, 30) == "FINALIZED"
    await page.goto(page.url.split("?")[0])
    assert "FINALIZED" in await page.locator("dl.facts").inner_text()
    await shot(page, "negotiation")


async def test_the_other_pages_render(provider_page):
    page = provider_page
    for path, name, heading in (("/transfers", "transfers", "Transfers"), ("/jobs", "jobs", "Compute jobs"),
                                ("/federation", "federation", "Federated catalog")):
        await page.goto(path)
        assert await page.get_by_role("heading", name=heading).is_visible()
        await shot(page, name)
    assert "runs no crawler" in await page.locator("main").inner_text()
    # every page so far ran without a script error or a policy violation (the sign-in form's
    # expected 401 aside)
    assert [e for e in page.errors if "401" not in e] == []


async def test_search_the_federated_catalog_and_negotiate(browser, nodes):
    provider, member = nodes
    await published(provider, "Tram timetables", ("mobility", "tram"))
    built = provider.running.node.self_descriptions.get(Framework.LOIRE)
    record = MemberRecord(provider.did, provider.public, claims_digest(built.credentials.values()), ACTIVE, True)
    report = await member.running.public_app[CRAWLER].crawler.crawl(Registry(1, (record,)))
    assert report.to_json()["datasets"] >= 1, report.to_json()
    page = await console_of(browser, member)
    try:
        await page.goto("/federation")
        await page.get_by_label("tram (1)").check()
        await page.get_by_role("button", name="Search").click()
        await page.wait_for_url("**keyword=tram**")
        await shot(page, "federation-search")
        await page.get_by_role("link", name="Tram timetables").click()
        await page.wait_for_selector("text=Negotiate this offer")
        await shot(page, "federation-dataset")
        await page.get_by_role("button", name="Negotiate this offer").first.click()
        await page.wait_for_url("**/negotiations/*?started=1")
        assert "CONSUMER" in await page.locator("dl.facts").inner_text()
    finally:
        await page.context.close()


async def test_counter_offer_then_terminate_from_the_console(nodes):
    """The provider's operator answers with the dataset's own offer, then ends the negotiation;
    the consumer sees it terminated (plain HTTP: the forms the pages post)."""
    provider, member = nodes
    consumer = member.running.management_app[NEGOTIATIONS]
    started = await consumer.start(provider.public, await published(provider, "Street lights"))
    mine = provider.running.management_app[NEGOTIATIONS]
    deadline = time.monotonic() + 15
    while not (ours := [n for n in await mine.pending() if n.consumer_pid == started.consumer_pid]):
        assert time.monotonic() < deadline, "the request never reached the provider"
        await asyncio.sleep(0.05)
    async with session_for(provider) as http:
        csrf = await signed_in(http, provider.token)
        async with http.post(f"/negotiations/{ours[0].id}/offer", data={"csrf": csrf, "odrl": "[1]"}) as response:
            assert response.status == 400 and "must be a JSON object" in await response.text()
        async with http.post(f"/negotiations/{ours[0].id}/offer", data={"csrf": csrf, "odrl": ""}) as response:
            assert response.status == 200 and "Your counter-offer is on its way." in await response.text()
        async with http.post(f"/negotiations/{ours[0].id}/terminate", data={"csrf": csrf}) as response:
            assert response.status == 200 and "TERMINATED" in await response.text()
    deadline = time.monotonic() + 15
    while (await consumer.store.get(started.id)).state.value != "TERMINATED":
        assert time.monotonic() < deadline, "the consumer never heard of the termination"
        await asyncio.sleep(0.05)
