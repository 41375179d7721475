"""The consensus core against the paper's rules, driven one event at a time with real keys,
real blocks and the real kvstore application."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger.consensus import execution as ex
from ledger.consensus.core import (
    Core,
    Decided,
    Equivocation,
    ScheduleTimeout,
    SendProposal,
    SendVote,
)
from ledger.consensus.timeouts import PRECOMMIT as T_PRECOMMIT
from ledger.consensus.timeouts import PREVOTE as T_PREVOTE
from ledger.consensus.timeouts import PROPOSE as T_PROPOSE
from ledger.consensus.timeouts import TimeoutConfig
from ledger.crypto import PrivateKey
from ledger.errors import InvalidError, SignatureError
from ledger.kvstore import KVStore
from ledger.sim.memory import MemPrivVal
from ledger.types import PRECOMMIT, PREVOTE, Block, Genesis, Proposal, Vote, txs_hash

CHAIN = "test-chain"


class Harness:
    """Node `me` of validators with `powers`; the others are driven by hand."""

    def __init__(self, powers: list[int], me: int | None = None) -> None:
        keys = [PrivateKey.from_secret(f"c{i}".encode()) for i in range(len(powers))]
        self.genesis = Genesis(
            CHAIN, 1_000, tuple((k.pub_key, p) for k, p in zip(keys, powers, strict=True))
        )
        self.app = KVStore()
        self.state = ex.genesis_state(self.genesis, self.app)
        self.vals = self.state.validators
        by_addr = {k.address: k for k in keys}
        self.keys = [by_addr[v.address] for v in self.vals.validators]  # validator-set order
        self.now = 5_000
        self.me = me
        addr = None if me is None else self.keys[me].address
        signer = MemPrivVal(self.keys[me], CHAIN) if me is not None else MemPrivVal(keys[0], CHAIN)
        self.core = Core(CHAIN, addr, signer, self, lambda: self.now, TimeoutConfig())
        self.proposed: list[Block] = []

    def pidx(self, round_: int) -> int:
        addr = self.vals.copy_increment(round_).proposer().address
        return next(i for i, k in enumerate(self.keys) if k.address == addr)

    # ValueSource
    def get_value(self, height: int, round_: int) -> Block | None:
        b = self.block(f"r{round_}=x".encode(), self.keys[self.pidx(round_)])
        self.proposed.append(b)
        return b

    def valid(self, block: Block) -> bool:
        return ex.process_proposal(self.state, self.app, block, lambda ev: None)

    def block(self, tx: bytes, proposer: PrivateKey) -> Block:
        return ex.make_block(self.state, self.app, proposer.address, [tx], [], None)

    def proposal(self, round_: int, block: Block, pol_round: int = -1) -> Proposal:
        key = self.keys[self.pidx(round_)]
        return Proposal(1, round_, pol_round, block.hash(), self.now).signed(key, CHAIN)

    def vote(self, i: int, type_: int, round_: int, block: Block | None) -> Vote:
        k = self.keys[i]
        return Vote(
            type_, 1, round_, None if block is None else block.hash(), self.now, k.address, i
        ).signed(k, CHAIN)

    def votes(self, idxs: list[int], type_: int, round_: int, block: Block | None) -> list:
        out = []
        for i in idxs:
            out += self.core.on_vote(self.vote(i, type_, round_, block))
        return out

    def not_proposer(self, round_: int) -> int:
        return next(i for i in range(len(self.keys)) if i != self.pidx(round_))


def sent(outs: list, type_: int) -> list[Vote]:
    return [o.vote for o in outs if isinstance(o, SendVote) and o.vote.type == type_]


def timeouts(outs: list, kind: str) -> list[ScheduleTimeout]:
    return [o for o in outs if isinstance(o, ScheduleTimeout) and o.kind == kind]


def start_as_non_proposer(powers: list[int] | None = None,
                          rounds: tuple[int, ...] = (0,)) -> tuple[Harness, list]:
    h = Harness(powers or [10, 10, 10, 10], me=None)
    me = next(i for i in range(len(h.keys)) if all(h.pidx(r) != i for r in rounds))
    h = Harness(powers or [10, 10, 10, 10], me=me)
    return h, h.core.start_height(1, h.vals, 0)


def others(h: Harness) -> list[int]:
    return [i for i in range(len(h.keys)) if i != h.me]


def test_non_proposer_waits_for_the_proposal_then_prevotes_it() -> None:
    h, outs = start_as_non_proposer()
    assert timeouts(outs, T_PROPOSE)[0].delay == 3000
    b = h.block(b"a=1", h.keys[h.pidx(0)])
    outs = h.core.on_proposal(h.proposal(0, b), b)
    assert [v.block_hash for v in sent(outs, PREVOTE)] == [b.hash()]


def test_proposer_proposes_and_prevotes_its_block() -> None:
    h = Harness([10, 10, 10, 10], me=Harness([10, 10, 10, 10]).pidx(0))
    outs = h.core.start_height(1, h.vals, 0)
    props = [o for o in outs if isinstance(o, SendProposal)]
    assert len(props) == 1 and props[0].proposal.pol_round == -1
    assert sent(outs, PREVOTE)[0].block_hash == props[0].block.hash()


def test_timeout_propose_prevotes_nil_and_invalid_block_gets_nil() -> None:
    h, _ = start_as_non_proposer()
    outs = h.core.on_timeout(T_PROPOSE, 1, 0)
    assert sent(outs, PREVOTE)[0].block_hash is None
    h, _ = start_as_non_proposer()
    good = h.block(b"a=1", h.keys[h.pidx(0)])
    bad = replace(
        good, txs=(b"\xff",), header=replace(good.header, data_hash=txs_hash([b"\xff"]))
    )  # invalid tx
    outs = h.core.on_proposal(h.proposal(0, bad), bad)
    assert sent(outs, PREVOTE)[0].block_hash is None and good.hash() != bad.hash()


def test_polka_locks_and_precommits_then_quorum_of_precommits_decides() -> None:
    h, _ = start_as_non_proposer()
    b = h.block(b"a=1", h.keys[h.pidx(0)])
    h.core.on_proposal(h.proposal(0, b), b)
    o = others(h)
    outs = h.votes(o[:1], PREVOTE, 0, b)
    assert not sent(outs, PRECOMMIT)  # 2 of 4: no quorum yet
    outs = h.votes(o[1:2], PREVOTE, 0, b)
    assert sent(outs, PRECOMMIT)[0].block_hash == b.hash()
    assert timeouts(outs, T_PREVOTE)  # line 34: 2f+1 prevotes of any kind
    assert h.core.locked_round == 0 and h.core.valid_round == 0
    outs = h.votes(o[:2], PRECOMMIT, 0, b)
    dec = [x for x in outs if isinstance(x, Decided)]
    assert len(dec) == 1 and dec[0].block.hash() == b.hash()
    dec[0].commit.verify(CHAIN, h.vals, 1, b.hash())


def test_locked_validator_refuses_a_new_value_but_accepts_a_later_polka() -> None:
    h, _ = start_as_non_proposer(rounds=(0, 1, 2))
    b = h.block(b"a=1", h.keys[h.pidx(0)])
    h.core.on_proposal(h.proposal(0, b), b)
    o = others(h)
    h.votes(o[:2], PREVOTE, 0, b)  # polka in our round: lock on b (line 36)
    assert h.core.locked_round == 0
    h.votes(o, PRECOMMIT, 0, None)
    h.core.on_timeout(T_PRECOMMIT, 1, 0)
    assert h.core.round == 1
    c = h.block(b"c=1", h.keys[h.pidx(1)])
    outs = h.core.on_proposal(h.proposal(1, c), c)
    assert sent(outs, PREVOTE)[0].block_hash is None  # line 22: locked on another value
    h.votes(o[:2], PREVOTE, 1, c)  # with our nil: no polka yet
    h.votes(o, PRECOMMIT, 1, None)
    h.core.on_timeout(T_PRECOMMIT, 1, 1)
    assert h.core.round == 2 and h.core.locked_round == 0
    h.votes(o[2:], PREVOTE, 1, c)  # a late prevote completes round 1's polka for c
    # Round 2 re-proposes c with pol_round 1: line 28 lets us prevote it (0 <= 1).
    outs = h.core.on_proposal(h.proposal(2, c, pol_round=1), c)
    assert sent(outs, PREVOTE)[0].block_hash == c.hash()


def test_polka_in_current_round_relocks_even_after_prevoting_nil() -> None:
    h, _ = start_as_non_proposer(rounds=(0, 1))
    b = h.block(b"a=1", h.keys[h.pidx(0)])
    h.core.on_proposal(h.proposal(0, b), b)
    o = others(h)
    h.votes(o[:2], PREVOTE, 0, b)
    h.votes(o, PRECOMMIT, 0, None)
    h.core.on_timeout(T_PRECOMMIT, 1, 0)
    c = h.block(b"c=1", h.keys[h.pidx(1)])
    h.core.on_proposal(h.proposal(1, c), c)
    outs = h.votes(o, PREVOTE, 1, c)  # line 36 needs only step >= prevote, not our vote
    assert sent(outs, PRECOMMIT)[0].block_hash == c.hash()
    assert h.core.locked_round == 1 and h.core.valid_round == 1


def test_prevote_nil_quorum_precommits_nil_and_timeouts_grow() -> None:
    h, _ = start_as_non_proposer()
    h.core.on_timeout(T_PROPOSE, 1, 0)
    outs = h.votes(others(h)[:2], PREVOTE, 0, None)
    assert sent(outs, PRECOMMIT)[0].block_hash is None
    outs = h.votes(others(h)[:2], PRECOMMIT, 0, None)
    assert timeouts(outs, T_PRECOMMIT)[0].delay == 1000
    outs = h.core.on_timeout(T_PRECOMMIT, 1, 0)
    assert h.core.round == 1
    if h.pidx(1) != h.me:
        assert timeouts(outs, T_PROPOSE)[0].delay == 3500


def test_f_plus_one_messages_of_a_higher_round_skip_to_it() -> None:
    h, _ = start_as_non_proposer()
    h.votes(others(h)[:1], PREVOTE, 5, None)
    assert h.core.round == 0  # one of four is not more than a third
    h.votes(others(h)[1:2], PRECOMMIT, 5, None)
    assert h.core.round == 5


def test_weighted_one_heavy_validator_is_more_than_a_third() -> None:
    h, _ = start_as_non_proposer([50, 10, 10, 10])
    heavy = max(range(4), key=lambda i: h.vals.validators[i].voting_power)
    if heavy == h.me:
        pytest.skip("heavy validator is us")
    h.core.on_vote(h.vote(heavy, PREVOTE, 3, None))
    assert h.core.round == 3


def test_decides_on_an_earlier_rounds_precommits() -> None:
    h, _ = start_as_non_proposer()
    b = h.block(b"a=1", h.keys[h.pidx(0)])
    h.core.on_proposal(h.proposal(0, b), b)
    h.votes(others(h), PREVOTE, 2, None)  # skip to round 2 first
    assert h.core.round == 2
    outs = h.votes(others(h), PRECOMMIT, 0, b)
    assert any(isinstance(x, Decided) for x in outs)


def test_bad_input_is_refused() -> None:
    h, _ = start_as_non_proposer()
    v = h.vote(others(h)[0], PREVOTE, 0, None)
    with pytest.raises(SignatureError):
        h.core.on_vote(
            Vote(
                v.type,
                v.height,
                v.round,
                bytes(32),
                v.timestamp,
                v.validator_address,
                v.validator_index,
                v.signature,
            )
        )
    stranger = PrivateKey.from_secret(b"stranger")
    with pytest.raises(InvalidError):
        h.core.on_vote(Vote(PREVOTE, 1, 0, None, 1, stranger.address, 0).signed(stranger, CHAIN))
    b = h.block(b"a=1", h.keys[h.pidx(0)])
    wrong = Proposal(1, 0, -1, b.hash(), 1).signed(stranger, CHAIN)
    with pytest.raises(SignatureError):
        h.core.on_proposal(wrong, b)
    assert h.core.on_vote(Vote(PREVOTE, 9, 0, None, 1, v.validator_address, 0, v.signature)) == []


def test_equivocation_is_reported() -> None:
    h, _ = start_as_non_proposer()
    i = others(h)[0]
    b = h.block(b"a=1", h.keys[h.pidx(0)])
    h.core.on_vote(h.vote(i, PREVOTE, 0, None))
    outs = h.core.on_vote(h.vote(i, PREVOTE, 0, b))
    eq = [x for x in outs if isinstance(x, Equivocation)]
    assert len(eq) == 1 and eq[0].first.block_hash is None


def test_signer_refusal_means_silence() -> None:
    h, _ = start_as_non_proposer()
    signer = h.core.signer
    assert isinstance(signer, MemPrivVal)
    signer.last = (1, 7, 3)  # as if we had signed at round 7 before a crash
    outs = h.core.on_timeout(T_PROPOSE, 1, 0)
    assert not sent(outs, PREVOTE) and h.core.step == 1


# ------------------------------------------- several proposals in one round (a Byzantine proposer)


def _two_blocks(h: Harness) -> tuple[Block, Block]:
    key = h.keys[h.pidx(0)]
    return h.block(b"a=1", key), h.block(b"b=2", key)


def test_second_proposal_of_a_round_is_kept_and_its_polka_locks_and_decides() -> None:
    """The proposer equivocates: we receive A first (and prevote it), then B; 2f+1 prevotes
    name B. Line 36 must use B, the proposal the quorum names, not the first one received."""
    h, _ = start_as_non_proposer()
    a, b = _two_blocks(h)
    outs = h.core.on_proposal(h.proposal(0, a), a)
    assert [v.block_hash for v in sent(outs, PREVOTE)] == [a.hash()]
    h.core.on_proposal(h.proposal(0, b), b)
    outs = h.votes(others(h), PREVOTE, 0, b)
    assert [v.block_hash for v in sent(outs, PRECOMMIT)] == [b.hash()]
    assert h.core.locked_value is not None and h.core.locked_value.hash() == b.hash()
    assert h.core.valid_round == 0
    outs = h.votes(others(h), PRECOMMIT, 0, b)
    dec = [x for x in outs if isinstance(x, Decided)]
    assert len(dec) == 1 and dec[0].block.hash() == b.hash()


def test_quorum_for_a_block_we_lack_asks_for_it_once_then_locks_and_decides() -> None:
    from ledger.consensus.core import WantProposal

    h, _ = start_as_non_proposer()
    a, b = _two_blocks(h)
    h.core.on_proposal(h.proposal(0, a), a)
    outs = h.votes(others(h), PREVOTE, 0, b)
    assert [x for x in outs if isinstance(x, WantProposal)] == [WantProposal(1, 0, b.hash())]
    assert h.core.missing() == [(0, b.hash())]
    outs = h.votes(others(h), PRECOMMIT, 0, b)  # no decision without the block, no second ask
    assert not [x for x in outs if isinstance(x, (Decided, WantProposal))]
    outs = h.core.on_proposal(h.proposal(0, b), b)
    dec = [x for x in outs if isinstance(x, Decided)]
    assert len(dec) == 1 and dec[0].block.hash() == b.hash() and h.core.missing() == []


def test_proposals_per_round_are_bounded_but_the_one_a_quorum_names_gets_in() -> None:
    from ledger.consensus.core import MAX_PROPOSALS_PER_ROUND

    h, _ = start_as_non_proposer()
    key = h.keys[h.pidx(0)]
    blocks = [h.block(f"x={i}".encode(), key) for i in range(MAX_PROPOSALS_PER_ROUND + 2)]
    for b in blocks[:-1]:
        h.core.on_proposal(h.proposal(0, b), b)
    assert len(h.core.proposals[0]) == MAX_PROPOSALS_PER_ROUND
    assert blocks[-2].hash() not in h.core.proposals[0]  # beyond the bound: dropped
    last = blocks[-1]
    h.votes(others(h), PREVOTE, 0, last)
    h.core.on_proposal(h.proposal(0, last), last)
    assert len(h.core.proposals[0]) == MAX_PROPOSALS_PER_ROUND
    assert h.core.locked_value is not None and h.core.locked_value.hash() == last.hash()
