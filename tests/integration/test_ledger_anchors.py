"""Trust anchors voted onto the ledger's registry are trusted issuers, for the credential types
they list, beside those of communs.toml; one voted off is trusted no more at the next block."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import time

import pytest

from connector.config import load
from connector.credentials.trust import TrustAnchors
from connector.ledger.config import LedgerConfig
from connector.ledger.service import open_ledger
from connector.node import open_keys
from ledger.cli import main as ledger_cli
from tests.integration.ledgered import one_validator, until
from tests.nodes import init_node

ISSUER = "did:web:issuer.example"
OTHER = "did:web:other.example"


def _ledger(home, *argv: str) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert ledger_cli(["ledger", *argv, "--dir", str(home), "--json"]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    with one_validator(tmp_path_factory.mktemp("ledger"), "--voting-period", "2",
                       "--deposit-period", "2", "--min-deposit", "1") as found:
        yield found


def _pass(home, *proposal: str) -> None:
    """Propose, vote yes with all the power, wait for the end of the vote."""
    pid = _ledger(home, "gov", "propose", "--title", "anchors", "--deposit", "1com", *proposal)["proposal_id"]
    _ledger(home, "gov", "vote", str(pid), "yes")
    deadline = time.monotonic() + 20
    while (status := _ledger(home, "gov", "show", str(pid))["status"]) == "voting_period":
        assert time.monotonic() < deadline, "the vote did not end"
        time.sleep(0.2)
    assert status == "passed", status


@pytest.fixture
def node(tmp_path):
    return init_node(tmp_path / "node")


async def test_anchors_by_vote(chain, node):
    home, rpc = chain
    config = load(node)
    config = dataclasses.replace(config, ledger=LedgerConfig(rpc_url=rpc, genesis=str(home / "genesis.json"),
                                                             poll_interval=0.1))
    await asyncio.to_thread(_pass, home, "--anchor", ISSUER, "MembershipCredential")
    async with open_ledger(config, open_keys(node), "did:web:me.example") as service:
        anchors = TrustAnchors(config, "did:web:me.example", service)
        await until("a first proven view", lambda: _fresh(service))
        await until("the voted anchor", lambda: anchors.trusted(ISSUER, ["MembershipCredential"]))
        assert await anchors.trusted(ISSUER, ["VerifiableCredential", "MembershipCredential"])
        assert not await anchors.trusted(ISSUER, ["LegalPerson"])  # not a type it was voted for
        assert not await anchors.trusted(OTHER, ["MembershipCredential"])

        await asyncio.to_thread(_pass, home, "--messages", str(_remove(home)))
        await until("the anchor's removal", lambda: _not(anchors.trusted(ISSUER, ["MembershipCredential"])))


async def _fresh(service) -> bool:
    return not service.stale


async def _not(awaitable) -> bool:
    return not await awaitable


def _remove(home):
    path = home.parent / "remove.json"
    path.write_text(json.dumps([{"type": "registry/remove_trust_anchor", "did": ISSUER}]))
    return path
