"""The replica's gossip: a newly accepted proposal is relayed once, a block that a quorum names
and we lack is asked for, and a peer holding it answers (refusing unknown requests quietly)."""

from __future__ import annotations

import pytest

from ledger.consensus.messages import (
    ProposalMsg,
    ProposalRequest,
    VoteMsg,
    decode_msg,
    encode_msg,
)
from ledger.consensus.replica import Penalize, Replica, Send
from ledger.consensus.timeouts import TimeoutConfig
from ledger.crypto import PrivateKey
from ledger.encoding import encode
from ledger.errors import DecodeError
from ledger.kvstore import KVStore
from ledger.sim.memory import MemBlockStore, MemMempool, MemPrivVal, MemStateStore, MemWAL
from ledger.types import PRECOMMIT, PREVOTE, Genesis, Vote


def _replicas(n: int = 4, fanout: int | None = None) -> tuple[list[Replica], int, bytes]:
    """n started replicas (peer names n0..), the round-0 proposer's index and its proposal."""
    keys = [PrivateKey.from_secret(f"gossip-{i}".encode()) for i in range(n)]
    genesis = Genesis("gossip", 1_000, tuple((k.pub_key, 10) for k in keys))
    reps, proposal = [], None
    for i, k in enumerate(keys):
        r = Replica(genesis, KVStore(), k.address, MemPrivVal(k, genesis.chain_id),
                    MemBlockStore(), MemStateStore(), MemWAL(), MemMempool(), lambda: 10_000,
                    TimeoutConfig.fast(), fanout)
        for a in r.start():
            if isinstance(a, Send) and isinstance(decode_msg(a.data), ProposalMsg):
                proposal = (i, a.data)
        reps.append(r)
    assert proposal is not None
    return reps, proposal[0], proposal[1]


def _sends(actions: list, data: bytes) -> list[Send]:
    return [a for a in actions if isinstance(a, Send) and a.data == data]


def test_a_new_proposal_is_relayed_once_and_a_duplicate_is_not() -> None:
    reps, p, data = _replicas(fanout=2)
    j = (p + 1) % 4
    relays = _sends(reps[j].on_message(f"n{p}", data), data)
    assert len(relays) == 1 and relays[0].peer is None and relays[0].fanout == 2
    assert _sends(reps[j].on_message(f"n{p}", data), data) == []
    assert _sends(reps[j].on_message(f"n{(p + 2) % 4}", data), data) == []


def test_a_peer_holding_the_proposal_answers_a_request_rate_limited_unknown_ignored() -> None:
    reps, p, data = _replicas()
    prop = decode_msg(data)
    assert isinstance(prop, ProposalMsg)
    j = (p + 1) % 4
    reps[j].on_message(f"n{p}", data)
    req = encode_msg(ProposalRequest(1, 0, prop.proposal.block_hash))
    outs = reps[j].on_message("n9", req)
    assert [(a.peer, a.data) for a in outs if isinstance(a, Send)] == [("n9", data)]
    assert _sends(reps[j].on_message("n9", req), data) == []  # within the gossip interval
    bh = prop.proposal.block_hash
    for unknown in (ProposalRequest(1, 0, bytes(32)), ProposalRequest(1, 5, bh),
                    ProposalRequest(7, 0, bh)):
        outs = reps[j].on_message("n9", encode_msg(unknown))
        assert not [a for a in outs if isinstance(a, (Send, Penalize))]  # not an offence


def test_a_quorum_for_a_block_we_lack_asks_the_voters_peers_then_locks_it() -> None:
    reps, p, data = _replicas(fanout=0)
    lacking = (p + 1) % 4
    prevotes = {}
    for k in range(4):
        if k == lacking:
            continue
        outs = reps[k].on_message(f"n{p}", data) if k != p else []
        for a in outs:
            if isinstance(a, Send) and isinstance(decode_msg(a.data), VoteMsg):
                prevotes[k] = a.data
    prevotes[p] = _own_prevote(reps[p])
    asked: list[Send] = []
    for k, vote in sorted(prevotes.items()):
        for a in reps[lacking].on_message(f"n{k}", vote):
            if isinstance(a, Send) and isinstance(decode_msg(a.data), ProposalRequest):
                asked.append(a)
    prop = decode_msg(data)
    assert isinstance(prop, ProposalMsg)
    want = ProposalRequest(1, 0, prop.proposal.block_hash)
    assert [decode_msg(a.data) for a in asked] == [want] * 3
    assert sorted(a.peer for a in asked) == sorted(f"n{k}" for k in prevotes)
    holder = next(k for k in prevotes if k != p)
    answer = reps[holder].on_message(f"n{lacking}", asked[0].data)
    outs = reps[lacking].on_message(f"n{holder}", _sends(answer, data)[0].data)
    votes = [decode_msg(a.data) for a in outs if isinstance(a, Send)]
    assert any(isinstance(v, VoteMsg) and v.vote.type == PRECOMMIT
               and v.vote.block_hash == prop.proposal.block_hash for v in votes)
    assert reps[lacking].core.locked_round == 0


def _own_prevote(r: Replica) -> bytes:
    """The prevote a proposer cast on its own proposal, as it sent it at start."""
    v = next(v for v in r.core.own if isinstance(v, Vote) and v.type == PREVOTE)
    return encode_msg(VoteMsg(v))


def _pump(reps: list[Replica], sends: list[tuple[int, Send]], held: list[tuple[int, bytes]],
          hold: int) -> None:
    """Deliver every message at once (no timers), keeping those to `hold` aside in `held`."""
    while sends:
        frm, s = sends.pop(0)
        targets = [int(s.peer[1:])] if s.peer is not None else \
            [k for k in range(len(reps)) if k != frm]
        for k in targets:
            if k == hold:
                held.append((frm, s.data))
            else:
                sends += [(k, a) for a in reps[k].on_message(f"n{frm}", s.data)
                          if isinstance(a, Send)]


def test_a_proposal_of_the_next_height_is_logged_and_relayed_once_we_get_there() -> None:
    """A proposal that arrives while we finish the previous height is kept; once we start its
    height it is written to the WAL before the core acts on it (a lock must survive a crash)
    and relayed, like any other."""
    for lag in range(4):
        reps, p, data = _replicas()
        held: list[tuple[int, bytes]] = []
        _pump(reps, [(p, Send(None, data))], held, lag)
        sends = [(k, a) for k in range(4) if k != lag
                 for a in reps[k].on_timer(("next", 2)) if isinstance(a, Send)]
        props = [(k, a.data) for k, a in sends if isinstance(decode_msg(a.data), ProposalMsg)]
        if props:  # the next proposer is not the lagging node
            break
    assert [r.height for r in reps] == [0 if k == lag else 1 for k in range(4)]
    k2, data2 = props[0]
    assert not _sends(reps[lag].on_message(f"n{k2}", data2), data2)  # not yet: height 2 is ahead
    outs = []
    for frm, d in held:
        outs += reps[lag].on_message(f"n{frm}", d)
    assert reps[lag].height == 1
    outs = reps[lag].on_timer(("next", 2))
    relays = _sends(outs, data2)
    assert len(relays) == 1 and relays[0].peer is None
    wal = reps[lag].wal.items  # type: ignore[attr-defined]
    mine = next(i for i, rec in enumerate(wal) if reps[lag].address in rec)
    assert any(data2 in rec for rec in wal[:mine])  # logged before our prevote on it


def test_proposal_request_round_trips_and_malformed_ones_are_refused() -> None:
    req = ProposalRequest(3, 2, bytes(range(32)))
    assert decode_msg(encode_msg(req)) == req
    for bad in ({"t": "prop_req", "h": 3, "r": -1, "b": bytes(32)},
                {"t": "prop_req", "h": 3, "r": 0, "b": bytes(31)},
                {"t": "prop_req", "h": 3, "r": True, "b": bytes(32)},
                {"t": "prop_req", "r": 0, "b": bytes(32)}):
        with pytest.raises(DecodeError):
            decode_msg(encode(bad))
