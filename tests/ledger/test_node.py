"""Bad input from peers is refused and penalized without a crash (at the replica, which both
the simulator and the node run), and the node's adapters: private validator, restart from
disk, the p2p path from a misbehaving peer to its penalty, and the CLI's error paths."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from ledger import privval
from ledger.cli import main as cli
from ledger.consensus.messages import (
    MAX_MESSAGE,
    BlockResponse,
    EvidenceMsg,
    ProposalMsg,
    StatusMsg,
    TxMsg,
    VoteMsg,
    encode_msg,
)
from ledger.consensus.replica import Penalize, Replica
from ledger.crypto import PrivateKey
from ledger.encoding import decode
from ledger.node import CH_CONSENSUS, Node, PVSigner
from ledger.p2p import NodeKey, PeerAddress, PeerManager
from ledger.rpc import RpcClient
from ledger.sim.world import World
from ledger.types import PREVOTE, DuplicateVoteEvidence, Proposal, Vote
from tests.ledger.homes import single_validator


@pytest.fixture(scope="module")
def world() -> World:
    w = World(4, 11, tx_interval=0)
    assert w.run_until_height(4, 20_000)
    return w


def _replica(w: World) -> Replica:
    """Node 0's replica, at a moment when it is inside an undecided height."""
    r = w.nodes[0].replica
    assert r is not None
    while r.core.decided:
        w.run(w.time + 1)
    return r


def _penalized(actions: list) -> bool:
    return any(isinstance(a, Penalize) and a.peer == "evil" for a in actions)


def _a_vote(w: World) -> Vote:
    r = _replica(w)
    v = next(iter(r.core.all_votes()), None)
    if v is None:
        k = w.nodes[1].key
        i = r.core.vals.index_of(k.address)
        v = Vote(PREVOTE, r.core.height, 0, None, 1, k.address, i or 0).signed(k, w.genesis.chain_id)
    return v


@pytest.mark.parametrize("data", [b"", b"\x00garbage", b"d\x01s\x01ts\x05bogus",
                                  b"l\xff\xff\xff\x7f", b"s" + b"\xff" * 10])
def test_malformed_messages_are_penalized(world: World, data: bytes) -> None:
    assert _penalized(_replica(world).on_message("evil", data))


def test_oversized_message_is_penalized(world: World) -> None:
    assert _penalized(_replica(world).on_message("evil", b"b" + b"\x00" * (MAX_MESSAGE + 1)))


def test_forged_votes_are_penalized(world: World) -> None:
    r, v = _replica(world), _a_vote(world)
    forged = replace(v, round=v.round + 1, signature=v.signature)  # signature no longer fits
    assert _penalized(r.on_message("evil", encode_msg(VoteMsg(forged))))
    stranger = PrivateKey.from_secret(b"not a validator")
    alien = Vote(PREVOTE, r.core.height, 0, None, 1, stranger.address, 0).signed(
        stranger, world.genesis.chain_id)
    assert _penalized(r.on_message("evil", encode_msg(VoteMsg(alien))))


def test_stale_heights_are_ignored_not_penalized(world: World) -> None:
    r = _replica(world)
    old = world.nodes[0].blocks.commit(1)
    assert old is not None
    assert not _penalized(r.on_message("evil", encode_msg(VoteMsg(old.vote(0)))))
    assert not _penalized(r.on_message("evil", encode_msg(StatusMsg(1))))


def test_invalid_blocks_and_commits_are_refused(world: World) -> None:
    r = _replica(world)
    nxt = r.state.next_height
    good = world.nodes[1].blocks  # a peer that is ahead or level
    b1, c1 = good.block(1), good.commit(1)
    assert b1 is not None and c1 is not None
    # A proposal signed by someone who is not the round's proposer.
    bad_p = Proposal(r.core.height, r.core.round, -1, b1.hash(), 1).signed(
        PrivateKey.from_secret(b"x"), world.genesis.chain_id)
    assert _penalized(r.on_message("evil", encode_msg(ProposalMsg(bad_p, b1))))
    # A synced block whose commit does not carry +2/3 of the signatures.
    src = next((n for n in world.nodes if n.blocks.height() >= nxt), None)
    if src is not None:
        blk, com = src.blocks.block(nxt), src.blocks.commit(nxt)
        assert blk is not None and com is not None
        weak = replace(com, signatures=com.signatures[:1] + tuple(
            replace(s, flag=1, validator_address=b"", signature=b"") for s in com.signatures[1:]))
        assert _penalized(r.on_message("evil", encode_msg(BlockResponse(blk, weak))))
        assert r.state.next_height == nxt


def test_invalid_transactions_stay_out_of_the_mempool(world: World) -> None:
    r = _replica(world)
    before = len(r.mempool)
    r.on_message("evil", encode_msg(TxMsg((b"\xff\xfe", b"no-equals", b"x" * 70_000))))
    assert len(r.mempool) == before
    res, _ = r.submit_tx(b"\xff")
    assert not res.ok


def test_forged_evidence_is_penalized(world: World) -> None:
    r, v = _replica(world), _a_vote(world)
    vals = r.states.validators(v.height)
    assert vals is not None
    other = replace(v, block_hash=bytes(32) if v.block_hash is None else None)  # unsigned twin
    ev = DuplicateVoteEvidence.make(v, other, vals, 0)
    if ev.height < r.state.next_height:
        assert _penalized(r.on_message("evil", encode_msg(EvidenceMsg(ev))))


# --------------------------------------------------------------------------- adapters


def test_pv_signer_never_signs_conflicting_votes(tmp_path: Path) -> None:
    pv = privval.FilePV(tmp_path / "k.json", tmp_path / "s.json",
                        equivalent=lambda a, b: {**decode(a), "time": 0} == {**decode(b), "time": 0})
    s = PVSigner(pv, "c")
    from ledger.crypto import address

    v = Vote(PREVOTE, 5, 0, bytes(32), 1000, address(pv.public_key), 0)
    first = s.sign_vote(v)
    assert first is not None and first.verify("c", pv.public_key)
    again = s.sign_vote(replace(v, timestamp=2000))  # after a restart: same vote, later clock
    assert again == first
    assert s.sign_vote(replace(v, block_hash=None)) is None  # conflicting
    assert s.sign_vote(replace(v, height=4)) is None  # regression
    # Persisted: a new signer on the same files refuses too.
    pv2 = privval.FilePV(tmp_path / "k.json", tmp_path / "s.json")
    assert PVSigner(pv2, "c").sign_vote(replace(v, block_hash=None)) is None


async def _wait_height(node: Node, h: int, timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.05)):
        if node.replica.height >= h:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"stuck at {node.replica.height}")


async def test_single_validator_restarts_from_disk_and_penalizes_garbage(tmp_path: Path) -> None:
    home = single_validator(tmp_path)
    node = Node(home)
    await node.start()
    try:
        assert (await node.submit_tx(b"a=1"))["ok"]
        await _wait_height(node, 3)
        # A peer that sends garbage is penalized, and the node goes on.
        evil = PeerManager(NodeKey.generate(), lambda *a: None, port=0,
                           persistent_peers=[PeerAddress(node.peers.id, "127.0.0.1",
                                                         node.peers.address.port)],
                           network=node.genesis.chain_id.encode())
        await evil.start()
        for _ in range(100):
            if evil.peers():
                break
            await asyncio.sleep(0.05)
        for _ in range(5):
            evil.send(node.peers.id, CH_CONSENSUS, b"\x00not a message")
        await asyncio.sleep(0.3)
        assert node.peers.score(evil.id) < 0
        await evil.stop()
        h = node.replica.height
    finally:
        await node.stop()
    node = Node(home)
    await node.start()
    try:
        assert node.replica.height >= h  # replayed from the block store
        assert node.app.query("/key", b"a").value == b"1"
        await _wait_height(node, h + 2)
        # Over the real RPC: submit-and-wait, the live block feed, blocks and validators.
        async with RpcClient(node.rpc.url, timeout=10) as c:
            res = await c.broadcast_tx_commit(b"b=2", timeout=10)
            assert res["check_tx"]["ok"] and res["commit"]["height"] > h
            feed = c.subscribe()
            first = await asyncio.wait_for(feed.__anext__(), 10)
            assert first["height"] > res["commit"]["height"] - 1 and len(first["hash"]) == 64
            await feed.aclose()
            blk = await c.block(first["height"])
            assert blk is not None and blk["hash"] == first["hash"]
            assert len(await c.validators()) == 1
            assert (await c.query("/key", b"b"))["value_text"] == "2"
    finally:
        await node.stop()


def test_cli_errors_are_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["ledger", "status", "--dir", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err.strip()
    assert "ledger init" in err and "\n" not in err
    assert cli(["ledger", "init", "--validators", "0", "--dir", str(tmp_path)]) == 2
    assert cli(["ledger", "init", "--app", "kvstore", "--validators", "2", "--dir", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["nodes"]) == 2
    assert cli(["ledger", "init", "--app", "kvstore", "--validators", "2", "--dir", str(tmp_path)]) == 1
    assert cli(["ledger", "status", "--dir", str(tmp_path / "node0")]) == 1  # not running
    assert "cannot reach" in capsys.readouterr().err


def test_init_funds_further_genesis_accounts(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from ledger.app import client
    from ledger.crypto import PrivateKey

    who = client.account_address(PrivateKey.from_secret(b"funded"))
    assert cli(["ledger", "init", "--validators", "1", "--dir", str(tmp_path / "a"),
                "--fund", f"{who}=2.5com", "--fund", f"{who.upper()}=7"]) == 0
    balances = json.loads((tmp_path / "a/node0/genesis.json").read_text())["app_state"]["balances"]
    assert balances[who] == 7_000_000 and len(balances) == 2  # the node's account and who
    capsys.readouterr()
    for fund, said in ((who, "write it as ADDRESS=AMOUNT"),
                       ("com1nope=5", "'com1nope' is not an address"),
                       (f"{who}=0", "it must be more than zero")):
        assert cli(["ledger", "init", "--validators", "1", "--dir", str(tmp_path / "b"),
                    "--fund", fund]) == 1
        assert said in capsys.readouterr().err
    assert cli(["ledger", "init", "--app", "kvstore", "--validators", "1", "--dir",
                str(tmp_path / "c"), "--fund", f"{who}=5"]) == 1
    assert "--fund needs the ledger application" in capsys.readouterr().err
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()
