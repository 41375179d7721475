"""`communs ledger market` against one real validator process: the node's organization (a
founding registry member) lists a dataset, bob curates it, carol pays for two uses, the node
anchors the agreement; the queries' proofs are checked by the light client; a slash passes by
vote through `gov propose --slash`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ledger.cli import main
from tests.cli.test_ledger_bank_cli import start
from tests.ledger.test_cli_stake import Chain

DID = "did:web:alpha.example"
H = "ab" * 32


@pytest.fixture
def node(tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    n = Chain(tmp_path, capsys)
    assert main(["ledger", "init", "--validators", "1", "--dir", str(tmp_path / "a"),
                 "--fund", f"{n.bob}=1000", "--fund", f"{n.carol}=1000",
                 "--voting-period", "3", "--min-deposit", "2com",
                 "--member", f"{DID}=https://alpha.example"]) == 0
    process, log = start(n.home, tmp_path / "validator.log")
    try:
        yield n
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_list_curate_pay_anchor_and_slash_by_vote(node: Chain) -> None:
    me = node.ok("keys")["address"]
    node.ok("market", "list", "ds-1", "--did", DID, "--price", "1000003ucom",
            "--content-hash", H, "--contributor", f"{me}=2", "--contributor",
            f"{node.carol}=1", "--stake", "5com")
    node.ok("market", "stake", "ds-1", "1com", "--key", str(node.bob_key))
    assert node.refused("market", "pay", "ds-1", "agr-1", "1000000ucom", "--key",
                        str(node.carol_key)) == ("the listing asks 1000003 ucom per use, this "
                                                 "payment is 1000000")
    for _ in range(2):
        doc = node.ok("market", "pay", "ds-1", "agr-1", "1000003ucom", "--key",
                      str(node.carol_key))
    assert any(e["type"] == "market_payment" for e in doc["events"])
    assert node.refused("market", "pay", "ds-1", "agr-1", "1000003ucom") == \
        "agreement 'agr-1' is paid by another account"
    node.ok("market", "anchor", "agreement", "agr-1", "--digest", H, "--dataset", "ds-1",
            "--provider-did", DID, "--consumer-did", "did:web:carol.example",
            "--policy-hash", "cd" * 32)

    paid = node.ok("market", "payments", "agr-1", "--prove")
    assert (paid["count"], paid["total"], paid["payer"]) == (2, 2_000_006, node.carol)
    assert paid["verified"]["signed_power"] == paid["verified"]["total_power"] > 0
    value = node.ok("market", "value", "ds-1", "--prove")
    assert value["paid"] == value["contributors"] + value["curators"] + value["extracted"]
    assert (value["extracted"], value["curators"]) == (60_000, 2 * 97_000)
    assert node.ok("market", "value", "--prove")["paid"] == 2_000_006
    anchor = node.ok("market", "anchor-show", "agreement/agr-1", "--prove")
    assert (anchor["digest"], anchor["signer"]) == (H, me)
    listing = node.ok("market", "listing", "ds-1", "--prove")
    assert (listing["provider_stake"], listing["curator_stake"]) == (5_000_000, 1_000_000)
    assert node.ok("market", "stakes", "ds-1", "--prove")["curators"][0]["account"] == node.bob
    assert "cannot be proven: it is a list" in node.refused("market", "listings", "--prove")
    assert node.ok("market", "params", "--prove")["extraction_bps"] == 300
    code, said, _ = node.run("market", "value", "ds-1")
    assert code == 0 and said.startswith("'ds-1': paid 2.000006 com (2000006 ucom) in 2 ")

    doc = node.ok("gov", "propose", "--title", "false data", "--deposit", "2com",
                  "--slash", "ds-1", "5000", "the data is false")
    pid = str(doc["proposal_id"])
    node.ok("gov", "vote", pid, "yes")
    deadline = time.monotonic() + 20
    while node.ok("gov", "show", pid)["status"] == "voting_period":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert node.ok("gov", "show", pid)["status"] == "passed"
    listing = node.ok("market", "listing", "ds-1", "--prove")
    assert (listing["status"], listing["provider_stake"], listing["unbonding"]) == (
        "slashed", 0, 3_000_000)
    assert node.refused("market", "pay", "ds-1", "agr-1", "1000003ucom", "--key",
                        str(node.carol_key)) == "dataset 'ds-1' is slashed: it takes no payments"


def test_a_slash_from_a_messages_file_runs_as_the_gov_account(tmp_path: Path) -> None:
    from ledger.app.gov import msgs as gmsgs
    from ledger.app.market.msgs import MsgSlash
    from ledger.app.wire import gov_account
    from ledger.cli.forms import messages_file

    f = tmp_path / "slash.json"
    f.write_text(json.dumps([{"type": "market/slash", "dataset_id": "ds-1",
                              "fraction_bps": 2500, "reason": "unlawful"}]))
    wires = messages_file(f)
    m = gmsgs.parse_submit({"type": "gov/submit_proposal", "proposer": b"\x01" * 20,
                            "messages": wires, "initial_deposit": 0, "title": "t",
                            "summary": "s", "metadata": ""})
    assert m.messages == (MsgSlash(gov_account(), "ds-1", 2500, "unlawful"),)
