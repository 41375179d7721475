"""Stake and governance over four real validator processes, driven by the `communs ledger`
commands: proposals that pass (a member admitted and a trust anchor added by the votes of 3 of
the 4 organizations), lack quorum (deposit refunded) or are vetoed (deposit burned); a
validator stopped past the downtime window is jailed and leaves the consensus set at H+2, then
unjails; a crafted duplicate vote gets a validator slashed 5%, tombstoned and out of the set."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ledger import keys
from ledger.consensus.messages import EvidenceMsg, encode_msg
from ledger.crypto import PrivateKey
from ledger.light import validators_from_json
from ledger.node import CH_CONSENSUS, NodeConfig, key_path, load_genesis
from ledger.p2p import NodeKey, PeerAddress, PeerManager
from ledger.rpc import RpcClient
from ledger.types import PRECOMMIT, DuplicateVoteEvidence, Vote
from tests.ledger.stakenet import StakeNet
from tests.ledger.test_processes import N

NEWCOMER = "did:web:newcomer.example"
ISSUER = "did:web:issuer.example"
FOUNDERS = [f"--member=did:web:org{i}.example=https://org{i}.example" for i in range(N)]


@pytest.fixture
def gov_net(tmp_path: Path):  # type: ignore[no-untyped-def]
    net = StakeNet(tmp_path, "--voting-period", "8", "--min-deposit", "1com", *FOUNDERS)
    for i in range(N):
        net.start(i)
    yield net
    net.stop_all()


def _end_height(net: StakeNet, pid: int, submitted: int) -> int:
    """The block whose end decided proposal `pid` (its status left the voting period)."""
    return net.first_height(0, ("gov", "show", str(pid)),
                            lambda p: p["status"] != "voting_period", submitted,
                            net.height(0))


def _no_txs(net: StakeNet, *heights: int) -> None:
    for h in heights:  # a fee in these blocks would also be burned (20%): keep them empty
        assert net.ok(0, "query", "block", str(h))["num_txs"] == 0, f"block {h} has txs"


def test_proposals_pass_lack_quorum_and_are_vetoed(gov_net: StakeNet) -> None:
    net = gov_net
    net.wait(list(range(N)), 2)
    assert [m["did"] for m in net.ok(0, "registry", "members")["members"]] == \
        sorted(f"did:web:org{i}.example" for i in range(N))
    newcomer = keys.address_text(keys.create_account_key(net.root / "newcomer"))

    # (a) admit a member and add a trust anchor, from org 0; (b) a text one from org 3 that
    # only org 3 votes on; (c) a text one from org 1 that orgs 0 and 1 veto.
    a = net.ok(0, "gov", "propose", "--title", "admit newcomer", "--deposit", "1com",
               "--admit", NEWCOMER, "https://newcomer.example", "00" * 32, newcomer,
               "--anchor", ISSUER, "LegalPerson,ServiceOffering")
    b = net.ok(3, "gov", "propose", "--title", "quiet", "--text", "--deposit", "2com")
    c = net.ok(1, "gov", "propose", "--title", "vetoed", "--text", "--deposit", "3com")
    ids = {k: d["proposal_id"] for k, d in (("a", a), ("b", b), ("c", c))}
    assert sorted(ids.values()) == [1, 2, 3]
    # Each organization votes with its own node, all at once; an account's next transaction
    # waits for its previous one to be committed (its sequence is read from the chain).
    rounds = [[(0, "a", "yes"), (1, "a", "yes"), (2, "a", "yes"), (3, "b", "yes")],
              [(0, "c", "no_with_veto"), (1, "c", "veto"), (2, "c", "yes")]]
    for votes in rounds:
        for i, k, option in votes:
            assert net.ok(i, "gov", "vote", str(ids[k]), option, "--no-wait")["accepted"]
        for i, k, _ in votes:
            net.until(f"the vote of org {i} on proposal {k}", lambda i=i, k=k: any(
                v["voter"] == net.accounts[i]
                for v in net.ok(0, "gov", "votes", str(ids[k]))["votes"]), timeout=15)
    tally = net.ok(2, "gov", "tally", str(ids["c"]))
    assert (tally["yes"], tally["no_with_veto"]) == (10_000_000, 20_000_000)

    def decided() -> bool:
        return all(net.ok(0, "gov", "show", str(p))["status"] != "voting_period"
                   for p in ids.values())

    net.until("the end of the voting periods", decided, timeout=40)
    shown = {k: net.ok(0, "gov", "show", str(p)) for k, p in ids.items()}
    assert {k: p["status"] for k, p in shown.items()} == \
        {"a": "passed", "b": "rejected", "c": "rejected"}

    # (a) the registry lists what the proposal admitted, on every node.
    for i in range(N):
        member = net.ok(i, "registry", "member", NEWCOMER)
        assert (member["status"], member["account"]) == ("member", newcomer)
        assert net.ok(i, "registry", "anchors")["trust_anchors"] == [
            {"did": ISSUER, "credential_types": ["LegalPerson", "ServiceOffering"]}]
    assert net.ok(0, "registry", "member", NEWCOMER, "--prove")["verified"]

    # (b) no quorum (1 of 4 organizations voted): rejected and the deposit refunded.
    eb = _end_height(net, ids["b"], b["height"])
    _no_txs(net, eb - 1, eb)
    before = net.ok(0, "bank", "balance", net.accounts[3], "--height", str(eb - 1))["balance"]
    after = net.ok(0, "bank", "balance", net.accounts[3], "--height", str(eb))["balance"]
    assert after - before == 2_000_000
    assert shown["b"]["final_tally"]["yes"] == 10_000_000

    # (c) vetoed by 2 of 4: rejected and its deposit burned, the supply down by exactly it.
    ec = _end_height(net, ids["c"], c["height"])
    _no_txs(net, ec - 1, ec)
    before = net.ok(0, "query", "supply", "--height", str(ec - 1))["total"]
    after = net.ok(0, "query", "supply", "--height", str(ec))["total"]
    assert before - after == 3_000_000
    assert net.ok(0, "bank", "balance", net.accounts[1], "--height", str(ec))["balance"] == \
        net.ok(0, "bank", "balance", net.accounts[1], "--height", str(ec - 1))["balance"]


@pytest.mark.slow
def test_a_validator_down_past_the_window_is_jailed_then_unjails(tmp_path: Path) -> None:
    net = StakeNet(tmp_path, "--signed-blocks-window", "10", "--downtime-jail", "6")
    try:
        for i in range(N):
            net.start(i)
        net.wait(list(range(N)), 3)
        op = net.accounts[3]
        cons = net.ok(0, "staking", "validator", op)["consensus_address"].lower()
        stopped = net.height(0)
        net.stop(3)

        def jailed() -> bool:
            return bool(net.ok(0, "staking", "validator", op)["jailed"])

        net.until("the downtime jail", jailed, timeout=60)
        top = net.height(0)
        h = net.first_height(0, ("staking", "validator", op), lambda v: v["jailed"],
                             stopped, top)
        v = net.ok(0, "staking", "validator", op, "--height", str(h))
        assert v["tokens"] == 9_900_000  # slashed 1%
        net.wait([0], h + 2)
        assert cons in net.consensus_set(h + 1)
        assert cons not in net.consensus_set(h + 2)  # the update takes effect at H+2
        code, _, err = net.run(0, "staking", "unjail", "--key", str(net.key(3)))
        assert code == 1 and err.startswith(f"validator {op} is jailed until ")

        net.start(3)
        info = net.ok(0, "staking", "signing-info", op)
        net.until("the end of the jail time", lambda: net.ok(0, "query", "block")["time"] >
                  info["jailed_until"], timeout=30)
        doc = net.ok(0, "staking", "unjail", "--key", str(net.key(3)))
        assert not net.ok(0, "staking", "validator", op)["jailed"]
        net.until("the return to the consensus set",
                  lambda: cons in net.consensus_set(net.height(0)), timeout=30)
        assert cons in net.consensus_set(doc["height"] + 2)
        net.wait([3], doc["height"] + 3)  # the restarted validator caught up and follows
    finally:
        net.stop_all()


async def _send_evidence(net: StakeNet, ev: DuplicateVoteEvidence) -> None:
    """Hand the evidence to node 0 as a peer would (the engine's p2p, on its consensus
    channel): node 0 verifies it, keeps it in its pool, and a proposer puts it in a block."""
    home = net.home(0)
    target = PeerAddress(NodeKey.load_or_generate(home / "node_key.json").id, "127.0.0.1",
                         NodeConfig.load(home).p2p_port)
    peers = PeerManager(NodeKey.generate(), lambda peer, ch, data: None, port=0,
                        network=load_genesis(home).chain_id.encode())
    await peers.start()
    try:
        peers.add_persistent_peer(target)
        for _ in range(100):
            if peers.is_connected(target.node_id):
                break
            await asyncio.sleep(0.05)
        assert peers.send(target.node_id, CH_CONSENSUS, encode_msg(EvidenceMsg(ev)))
        await asyncio.sleep(0.5)  # let the frame go before closing
    finally:
        await peers.stop()


async def _duplicate_vote(net: StakeNet, i: int, height: int) -> DuplicateVoteEvidence:
    """Two precommits for different blocks at `height`, signed with validator i's key."""
    home = net.home(i)
    key = PrivateKey(base64.b64decode(json.loads(key_path(home).read_text())["priv_key"]))
    chain_id = load_genesis(home).chain_id
    async with RpcClient(NodeConfig.load(net.home(0)).rpc_url) as c:
        vals = validators_from_json(await c.validators(height))
        block: dict[str, Any] | None = await c.block(height)
    assert block is not None
    index = vals.index_of(key.address)
    assert index is not None
    a, b = (Vote(PRECOMMIT, height, 0, bytes([n]) * 32, block["time"], key.address,
                 index).signed(key, chain_id) for n in (1, 2))
    return DuplicateVoteEvidence.make(a, b, vals, block["time"])


def test_a_double_signer_is_slashed_tombstoned_and_leaves_the_set(tmp_path: Path) -> None:
    net = StakeNet(tmp_path)
    try:
        for i in range(N):
            net.start(i)
        net.wait(list(range(N)), 3)
        op = net.accounts[2]
        cons = net.ok(0, "staking", "validator", op)["consensus_address"].lower()
        supply = net.ok(0, "query", "supply")["total"]
        ev = asyncio.run(_duplicate_vote(net, 2, 2))
        sent = net.height(0)
        asyncio.run(_send_evidence(net, ev))

        def tombstoned() -> bool:
            return bool(net.ok(0, "staking", "validator", op)["tombstoned"])

        net.until("the double-sign punishment", tombstoned, timeout=30)
        h = net.first_height(0, ("staking", "validator", op), lambda v: v["tombstoned"],
                             sent, net.height(0))
        block = net.ok(0, "query", "block", str(h))
        assert len(block["evidence"]) == 1  # the block that carried the evidence
        v = net.ok(0, "staking", "validator", op, "--height", str(h))
        assert (v["tokens"], v["jailed"]) == (9_500_000, True)  # slashed 5%
        info = net.ok(0, "staking", "signing-info", op)
        assert info["tombstoned"]
        burned = supply - net.ok(0, "query", "supply", "--height", str(h))["total"]
        assert burned >= 500_000  # the slash is burned (and any fees' share)
        net.wait([0], h + 2)
        assert cons in net.consensus_set(h + 1)
        assert cons not in net.consensus_set(h + 2)
        code, _, err = net.run(0, "staking", "unjail", "--key", str(net.key(2)))
        assert code == 1 and err == (f"validator {op} is tombstoned (it double-signed) and "
                                     f"can never be unjailed")
        code, _, err = net.run(0, "staking", "delegate", op, "1com")
        assert code == 1 and err.startswith(f"validator {op} is tombstoned (it double-signed)")
    finally:
        net.stop_all()
