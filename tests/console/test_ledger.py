"""The Ledger page in a real browser against a real validator process: the node's DID key is
the validator's account (as `communs federation up` makes it); a proposal in its voting period
shows its tally, the operator votes from the console and sees the tally change, and a vote cast
elsewhere reaches the open page by itself (htmx polls the tally)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import html
import io
import json

import pytest
import pytest_asyncio

from connector.cli.main import main as communs
from connector.config import load, save
from connector.identity.did import did_web_from_url
from connector.ledger.config import LedgerConfig
from ledger.node import NodeConfig
from tests.cli.test_ledger_bank_cli import start
from tests.console.browser import ARGS, CHROMIUM, shot
from tests.console.test_sessions import session_for, signed_in
from tests.nodes import init_node, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")


def ledger(*argv: str) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert communs(["ledger", *argv, "--json"]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    """A node, and a one-validator chain whose account is the node's DID key."""
    root = tmp_path_factory.mktemp("ledger")
    folder = init_node(root / "org", name="Open City")
    config = load(folder)
    ledger("init", "--validators", "1", "--dir", str(root / "chain"), "--min-deposit", "1com",
           "--member", f"{did_web_from_url(config.public_url)}={config.public_url}",
           "--account-key", str(folder / "keys" / "ed25519.jwk"))
    home = root / "chain" / "node0"
    process, log = start(home, root / "validator.log")
    try:
        link = LedgerConfig(rpc_url=NodeConfig.load(home).rpc_url, genesis=str(home / "genesis.json"))
        save(dataclasses.replace(config, ledger=link))
        ledger("gov", "propose", "--title", "Lower the market fee", "--text", "--deposit", "1com", "--dir", str(home))
        # a dataset on the market, paid for twice: the value report has something to draw
        ledger("market", "list", "air-quality", "--did", did_web_from_url(config.public_url), "--price", "2com",
               "--content-hash", "ab" * 32, "--stake", "1com", "--dir", str(home))
        for agreement in ("agreement-1", "agreement-2"):
            ledger("market", "pay", "air-quality", agreement, "2com", "--dir", str(home))
        yield folder
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def node(linked):
    async with serving(linked) as running:
        yield running


async def test_the_ledger_page_and_a_vote_in_the_browser(node):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: run .ci/browsers.sh")
    async with playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = await browser.new_page(base_url=node.management, viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        await page.goto("/")
        await page.get_by_label("Management token").fill(node.token)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(node.management + "/")
        await page.goto("/ledger")
        assert await page.get_by_role("cell", name="Lower the market fee").is_visible()
        assert "yes 0 com" in await page.locator("#tally-1").inner_text()
        await page.get_by_role("button", name="Vote Yes on proposal 1").click()
        await page.wait_for_url("**/ledger?voted=1*")
        assert "Your vote on proposal 1 is recorded." in await page.locator("[role=status]").inner_text()
        assert "yes 10 com" in await page.locator("#tally-1").inner_text()
        # a vote cast elsewhere (the CLI, same account: it replaces the first) shows without a reload
        chain = node.running.node.config.home.parent / "chain" / "node0"
        await asyncio.to_thread(ledger, "gov", "vote", "1", "no", "--dir", str(chain))
        await playwright_api.expect(page.locator("#tally-1")).to_contain_text("no 10 com", timeout=10_000)
        assert "?voted=1" in page.url
        assert "% of the last" in await page.locator("main").inner_text()  # validators' uptime
        chart = page.get_by_role("img", name="Value per dataset (ucom): paid, returned to contributors, extracted")
        assert await chart.locator("rect >> nth=0").count() == 1
        await shot(page, "ledger")
        await browser.close()


async def test_a_vote_that_is_not_one_is_refused(node):
    async with session_for(node) as http:
        csrf = await signed_in(http, node.token)
        async with http.post("/ledger/proposals/1/vote", data={"csrf": csrf, "option": "maybe"}) as response:
            assert response.status == 400
            assert "is not a vote" in html.unescape(await response.text())
        async with http.post("/ledger/proposals/1/vote", data={"option": "yes"}) as response:
            assert response.status == 403
