"""`communs ledger staking | distribution | gov | registry` against one real validator process:
the balances that delegations, undelegations and withdrawals change, the JSON shapes, proofs
of single lookups checked by the light client, lists that refuse --prove, and the sentences a
user reads when the chain refuses (exit 1). `ledger init`'s federation options are tested
without a process."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ledger import keys, privval
from ledger.cli import main
from ledger.encoding import decode
from tests.cli.test_ledger_bank_cli import start

DID = "did:web:alpha.example"
ZERO = "00" * 32


class Chain:
    """One validator (node0), a funded delegator (bob) and a spare funded account (carol)."""

    def __init__(self, root: Path, capsys: Any) -> None:
        self.root, self.capsys = root, capsys
        self.bob_key = root / "bob" / "account_key.json"
        self.carol_key = root / "carol" / "account_key.json"
        self.bob = keys.address_text(keys.create_account_key(root / "bob"))
        self.carol = keys.address_text(keys.create_account_key(root / "carol"))
        self.home = root / "a" / "node0"

    def run(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["ledger", *argv, "--dir", str(self.home)])
        got = self.capsys.readouterr()
        return code, got.out, got.err.strip()

    def ok(self, *argv: str) -> Any:
        """A command that must succeed; its --json document."""
        code, said, err = self.run(*argv, "--json")
        assert code == 0, err
        return json.loads(said)

    def refused(self, *argv: str) -> str:
        code, _, err = self.run(*argv)
        assert code == 1, f"{argv} was not refused"
        return err.splitlines()[-1]

    def balance(self, who: str) -> int:
        return int(self.ok("bank", "balance", who)["balance"])


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("stake")
    c = Chain(root, None)
    assert main(["ledger", "init", "--validators", "1", "--dir", str(root / "a"),
                 "--fund", f"{c.bob}=1000", "--fund", f"{c.carol}=1000",
                 "--voting-period", "3", "--min-deposit", "2com",
                 "--member", f"{DID}=https://alpha.example"]) == 0
    process, log = start(c.home, root / "validator.log")
    try:
        yield c
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def c(chain: Chain, capsys: pytest.CaptureFixture[str]) -> Chain:
    chain.capsys = capsys
    return chain


def node_account(c: Chain) -> str:
    return str(c.ok("keys")["address"])


def paid(doc: dict[str, Any], kind: str) -> int:
    return sum(int(a["value"].removesuffix("ucom")) for e in doc["events"] if e["type"] == kind
               for a in e["attributes"] if a["key"] == "amount")


def test_delegate_undelegate_cancel_round_trip(c: Chain) -> None:
    val = node_account(c)
    before, tokens = c.balance(c.bob), c.ok("staking", "validator", val)["tokens"]
    doc = c.ok("staking", "delegate", val, "3com", "--key", str(c.bob_key))
    assert set(doc) >= {"hash", "signer", "fee", "messages", "height", "code", "events"}
    assert doc["signer"] == c.bob and doc["code"] == 0 and doc["fee"] == 10_000
    assert doc["messages"] == [{"type": "staking/delegate", "delegator": c.bob,
                                "validator": val, "amount": 3_000_000}]
    assert c.balance(c.bob) == before - 3_000_000 - 10_000
    assert c.ok("staking", "validator", val)["tokens"] == tokens + 3_000_000
    dels = c.ok("staking", "delegations", c.bob)
    assert dels["delegations"] == [{"validator": val, "shares": dels["delegations"][0]["shares"],
                                    "balance": 3_000_000}]

    before = c.balance(c.bob)
    doc = c.ok("staking", "undelegate", val, "1com", "--key", str(c.bob_key))
    rewards = paid(doc, "withdraw_rewards")  # a change of the delegation settles its rewards
    assert c.balance(c.bob) == before - doc["fee"] + rewards
    entries = c.ok("staking", "unbonding", c.bob)["unbonding"][0]["entries"]
    assert [(e["creation_height"], e["balance"]) for e in entries] == [(doc["height"], 1_000_000)]
    code, said, _ = c.run("staking", "unbonding", c.bob)
    assert code == 0 and said.startswith(f"{val}  1 com (1000000 ucom) at ")

    c.ok("staking", "cancel-unbonding", val, "1com", str(doc["height"]), "--key",
         str(c.bob_key))
    assert c.ok("staking", "unbonding", c.bob)["unbonding"] == []
    assert c.ok("staking", "delegations", c.bob)["delegations"][0]["balance"] == 3_000_000


def test_rewards_withdraw_and_commission(c: Chain) -> None:
    val = node_account(c)
    c.ok("staking", "delegate", val, "2com", "--key", str(c.carol_key))
    # A large fee in a block: shared at the next block's start among the delegations.
    sent = c.ok("bank", "send", c.bob, "1ucom", "--fee", "2com", "--key", str(c.bob_key))
    deadline = time.monotonic() + 10
    while (owed := c.ok("distribution", "rewards", c.carol))["height"] <= sent["height"]:
        assert time.monotonic() < deadline, "no block after the fee's"
        time.sleep(0.1)
    assert owed["rewards"][0]["validator"] == val and owed["total"] > 100_000
    before = c.balance(c.carol)
    doc = c.ok("distribution", "withdraw", "--key", str(c.carol_key))
    assert doc["withdrawn"] == owed["total"]  # no fee was paid in between
    assert c.balance(c.carol) == before - doc["fee"] + owed["total"]
    code, said, _ = c.run("distribution", "withdraw", val, "--key", str(c.carol_key))
    assert code == 0 and said.startswith("withdrew 0") and f"from {val}: transaction" in said

    commission = c.ok("distribution", "commission")["commission"]
    assert commission > 0
    before = c.balance(val)
    doc = c.ok("distribution", "withdraw-commission")
    assert doc["withdrawn"] >= commission
    assert c.balance(val) == before - doc["fee"] + doc["withdrawn"]
    assert c.ok("distribution", "community-pool")["pool"] > 0


def test_proofs_of_lookups_and_lists_that_refuse(c: Chain) -> None:
    val = node_account(c)
    for argv in (("staking", "validator", val), ("distribution", "commission", val),
                 ("registry", "member", DID), ("registry", "member", val),
                 ("staking", "signing-info", val), ("gov", "params")):
        doc = c.ok(*argv, "--prove")
        v = doc["verified"]
        assert v["block"] == doc["height"] + 1 and v["signed_power"] == v["total_power"] > 0
    code, said, _ = c.run("staking", "validator", val, "--prove")
    assert code == 0 and said.splitlines()[-1].startswith(
        "verified against the app hash of block ")
    assert c.ok("registry", "member", DID)["account"] == val
    assert c.refused("staking", "validators", "--prove") == (
        "the validator list cannot be proven: it is a list, read from many store keys; prove "
        "its entries one by one with `staking validator VALIDATOR --prove`")
    for argv in (("staking", "delegations"), ("distribution", "rewards"),
                 ("gov", "proposals"), ("registry", "members"), ("registry", "anchors")):
        assert "cannot be proven: it is a list" in c.refused(*argv, "--prove")
    vals = c.ok("staking", "validators")["validators"]
    assert [(v["operator"], v["status"], v["jailed"]) for v in vals][0] == (val, "bonded", False)


def test_refusals_read_as_the_chains_sentences(c: Chain) -> None:
    val = node_account(c)
    nobody = keys.address_text(keys.create_account_key(c.root / "nobody"))
    assert c.refused("staking", "delegate", nobody, "1com", "--key", str(c.bob_key)) == \
        f"{nobody} is not a validator"
    assert c.refused("staking", "unjail") == f"validator {val} is not jailed"
    assert c.refused("staking", "unjail", "--key", str(c.bob_key)) == \
        f"{c.bob} is not a validator"
    assert c.refused("staking", "delegate", val, "5000com", "--key", str(c.bob_key)).startswith(
        f"insufficient funds: {c.bob} has ")
    assert c.refused("staking", "delegate", val, "1.5ucom") == (
        "invalid amount '1.5ucom': write it as 5com, 1.5com, 1500000ucom or a whole number "
        "of ucom")
    assert c.refused("staking", "redelegate", val, val, "1com") == \
        "cannot redelegate to the same validator"
    # A proposal without enough deposit stays in its deposit period: no vote yet.
    doc = c.ok("gov", "propose", "--title", "early", "--text", "--deposit", "0")
    pid = str(doc["proposal_id"])
    assert c.refused("gov", "vote", pid, "yes") == \
        f"proposal {pid} is not in its voting period: it is in its deposit period"
    assert c.refused("gov", "deposit", pid, "1ucom") == (
        "a deposit must be at least 20000 ucom (1% of the minimum deposit), not 1 ucom")
    assert c.refused("gov", "vote", "999", "yes") == "proposal 999 does not exist"
    assert c.refused("gov", "propose", "--title", "x", "--deposit", "0") .startswith(
        "a proposal needs messages")
    bad = c.root / "bad.json"
    bad.write_text(json.dumps([{"type": "gov/community_pool_spend", "authority": c.bob,
                                "recipient": c.bob, "amount": 5}]))
    assert c.refused("gov", "propose", "--title", "x", "--deposit", "0", "--messages",
                     str(bad)) == ("message 1 of the proposal must have the gov module account "
                                   "as its authority")
    assert c.refused("registry", "update", DID, "https://beta.example", ZERO, "--key",
                     str(c.bob_key)) == f"only {DID}'s own account {val} can update it"
    assert c.refused("distribution", "withdraw-commission", "--key", str(c.bob_key)) == \
        f"{c.bob} is not a validator"


def test_proposal_from_a_file_and_weighted_vote_pass(c: Chain) -> None:
    msgs = c.root / "msgs.json"
    msgs.write_text(json.dumps([{"type": "gov/update_params", "module": "slashing",
                                 "changes": {"downtime_jail_duration": 1200}}]))
    doc = c.ok("gov", "propose", "--title", "longer jail", "--summary", "twice as long",
               "--deposit", "2com", "--messages", str(msgs),
               "--anchor", "did:web:issuer.example", "LegalPerson, ServiceOffering")
    pid = str(doc["proposal_id"])
    assert [m["type"] for m in doc["messages"][0]["messages"]] == [
        "gov/update_params", "registry/add_trust_anchor"]
    assert c.refused("gov", "tally", pid, "--prove") == (
        f"the running tally of proposal {pid} cannot be proven: it is counted from every vote "
        f"and delegation; its final tally can, once its voting period ends")
    seq = c.ok("query", "account", c.ok("keys")["address"])["sequence"]
    first = c.ok("gov", "vote", pid, "no", "--no-wait")  # replaced by the next vote
    assert first["accepted"] and "height" not in first
    c.ok("gov", "vote", pid, "--weighted", "yes=0.6,abstain=0.4", "--sequence", str(seq + 1))
    tally = c.ok("gov", "tally", pid)
    bonded = tally["total_bonded"]
    assert (tally["yes"], tally["abstain"]) == (bonded * 6 // 10, bonded * 4 // 10)
    assert c.ok("gov", "votes", pid)["votes"][0]["option"] == "yes:600000,abstain:400000"
    deadline = time.monotonic() + 15
    while c.ok("gov", "show", pid)["status"] == "voting_period":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert c.ok("gov", "show", pid, "--prove")["status"] == "passed"
    assert c.ok("gov", "tally", pid, "--prove")["yes"] == bonded * 6 // 10
    assert c.ok("staking", "params")["unbonding_time"] == 21 * 86_400
    code, said, _ = c.run("registry", "anchors", "did:web:issuer.example", "--prove")
    assert code == 0 and said.startswith(
        "did:web:issuer.example  LegalPerson, ServiceOffering")
    stored = c.ok("query", "store", b"params/slashing".hex())["value"]
    assert decode(bytes.fromhex(stored))["downtime_jail_duration"] == 1200
    code, said, _ = c.run("gov", "show", pid)
    assert code == 0 and said.startswith(f"#{pid}")


def test_create_validator_and_redelegate(c: Chain) -> None:
    val = node_account(c)
    pv = c.root / "carol" / "priv_validator_key.json"
    pub = privval.public_bytes(privval.load_or_generate_key(pv))
    doc = c.ok("staking", "create-validator", "1com", "--moniker", "carol", "--pub-key",
               str(pv), "--key", str(c.carol_key))
    assert doc["messages"][0]["pub_key"] == pub.hex()
    mine = c.ok("staking", "validator", c.carol)
    assert (mine["moniker"], mine["tokens"], mine["commission_ppm"]) == ("carol", 1_000_000,
                                                                        100_000)
    c.ok("staking", "edit-validator", "--moniker", "carol & co", "--key", str(c.carol_key))
    assert c.ok("staking", "validator", c.carol)["moniker"] == "carol & co"
    assert c.refused("staking", "edit-validator", "--commission", "5%", "--key",
                     str(c.carol_key)) == \
        "the commission rate can change at most once every 24 hours"
    assert c.refused("staking", "create-validator", "1com", "--pub-key", str(pv), "--key",
                     str(c.carol_key)) == f"{c.carol} is already a validator"
    c.ok("staking", "delegate", val, "1com", "--key", str(c.bob_key))
    c.ok("staking", "redelegate", val, c.carol, "1com", "--key", str(c.bob_key))
    reds = c.ok("staking", "redelegations", c.bob)["redelegations"]
    assert (reds[0]["src"], reds[0]["dst"]) == (val, c.carol)
    assert c.ok("staking", "validator", c.carol)["tokens"] == 2_000_000
    # The new validator is bonded at the end of a block: consensus has it two blocks later.
    deadline = time.monotonic() + 10
    while len(c.ok("query", "validators")) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_init_options_make_the_genesis_sections(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    sd = "ab" * 32
    assert main(["ledger", "init", "--validators", "2", "--dir", str(tmp_path / "f"),
                 "--voting-period", "7", "--deposit-period", "9", "--min-deposit", "1.5com",
                 "--unbonding-time", "30", "--signed-blocks-window", "10",
                 "--downtime-jail", "4", "--member", "did:web:a.example=https://a.example",
                 "--member", f"did:web:b.example%3A8443=https://b.example:8443/x@{sd}"]) == 0
    app = json.loads((tmp_path / "f" / "node1" / "genesis.json").read_text())["app_state"]
    accounts = [keys.address_text(keys.load_account_key(tmp_path / "f" / f"node{i}" /
                                                         "account_key.json")) for i in (0, 1)]
    assert app["gov"] == {"params": {"voting_period": 7, "max_deposit_period": 9,
                                     "min_deposit": 1_500_000}}
    assert app["slashing"] == {"params": {"signed_blocks_window": 10,
                                          "downtime_jail_duration": 4}}
    assert app["staking"]["params"] == {"unbonding_time": 30}
    assert len(app["staking"]["validators"]) == 2
    assert app["registry"] == {"members": [
        {"did": "did:web:a.example", "endpoint": "https://a.example", "sd_hash": ZERO,
         "account": accounts[0]},
        {"did": "did:web:b.example%3A8443", "endpoint": "https://b.example:8443/x",
         "sd_hash": sd, "account": accounts[1]}]}

    def refused(*argv: str) -> str:
        capsys.readouterr()
        assert main(["ledger", "init", "--validators", "2", "--dir", str(tmp_path / "g"),
                     *argv]) == 1
        return capsys.readouterr().err.strip()

    assert refused("--voting-period", "0") == \
        "ledger init: gov parameter voting_period must be positive"
    assert refused("--signed-blocks-window", "0") == \
        "ledger init: slashing parameter signed_blocks_window must be positive"
    assert refused("--member", "did:web:A=https://a.example").startswith(
        "--member 'did:web:A=https://a.example': 'did:web:A' is not a did:web DID")
    assert refused("--member", "did:web:a.example=http://a.example") == (
        "--member 'did:web:a.example=http://a.example': the endpoint must be an https URL "
        "(http only for 127.0.0.1 or localhost)")
    assert refused(*["--member", "did:web:a.example=https://a.example"] * 3) == \
        "3 --member for 2 nodes: each founding member is one node's organization"
    assert refused("--member", "did:web:a=https://a.example", "--member",
                   "did:web:a=https://b.example") == "a DID appears twice in --member"
    assert refused("--app", "kvstore", "--voting-period", "5") == \
        "the staking, governance and registry options need the ledger application"
    assert not (tmp_path / "g").exists()
