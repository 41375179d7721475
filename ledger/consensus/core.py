"""The consensus algorithm of "The latest gossip on BFT consensus" (Buchman, Kwon, Milosevic
2018, Algorithm 1), weighted by voting power, as a sans-IO state machine.

Events in (`start_height`, `on_proposal`, `on_vote`, `on_timeout`), outputs out (messages to
broadcast, timeouts to schedule, a decision, equivocations seen). The clock, the signer (which
persists its last signed step before returning: never double-sign) and the application's
`get_value`/`valid` are injected. Rule numbers in comments are the paper's line numbers.

Every "upon" rule is re-evaluated after every state change until none fires, because a rule
can become enabled by a step change as well as by a message.

A Byzantine proposer may sign several blocks for one round. Each is kept by value (at most
MAX_PROPOSALS_PER_ROUND, always making room for one a quorum names), and the rules use the
proposal whose block the quorum names; a quorum naming a block we lack yields WantProposal, so
the replica can fetch it (as CometBFT does with block parts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .. import crypto
from ..errors import InvalidError, SignatureError
from ..types import (
    ABSENT,
    FLAG_COMMIT,
    FLAG_NIL,
    PRECOMMIT,
    PREVOTE,
    Block,
    Commit,
    CommitSig,
    Proposal,
    ValidatorSet,
    Vote,
)
from .timeouts import PRECOMMIT as T_PRECOMMIT
from .timeouts import PREVOTE as T_PREVOTE
from .timeouts import PROPOSE as T_PROPOSE
from .timeouts import TimeoutConfig
from .votes import HeightVotes

STEP_PROPOSE, STEP_PREVOTE, STEP_PRECOMMIT = 0, 1, 2
MAX_ROUND_AHEAD = 1000  # votes further ahead than this are dropped (memory bound)
MAX_PROPOSALS_PER_ROUND = 3  # distinct blocks kept per round (only a Byzantine proposer has 2+)


class Signer(Protocol):
    """Signs after persisting; returns None when signing would conflict with the past."""

    def sign_vote(self, vote: Vote) -> Vote | None: ...
    def sign_proposal(self, proposal: Proposal) -> Proposal | None: ...


class ValueSource(Protocol):
    def get_value(self, height: int, round_: int) -> Block | None: ...  # the paper's getValue()
    def valid(self, block: Block) -> bool: ...  # the paper's valid(v)


@dataclass(frozen=True)
class SendProposal:
    proposal: Proposal
    block: Block


@dataclass(frozen=True)
class SendVote:
    vote: Vote


@dataclass(frozen=True)
class ScheduleTimeout:
    kind: str
    height: int
    round: int
    delay: int


@dataclass(frozen=True)
class Decided:
    block: Block
    commit: Commit


@dataclass(frozen=True)
class Equivocation:
    first: Vote
    second: Vote


@dataclass(frozen=True)
class WantProposal:
    """A quorum of votes names a block of this height and round that we have not received."""

    height: int
    round: int
    block_hash: bytes


Output = SendProposal | SendVote | ScheduleTimeout | Decided | Equivocation | WantProposal


class Core:
    def __init__(self, chain_id: str, address: bytes | None, signer: Signer, source: ValueSource,
                 clock: Callable[[], int], timeouts: TimeoutConfig) -> None:
        self.chain_id = chain_id
        self.address = address
        self.signer = signer
        self.source = source
        self.clock = clock
        self.timeouts = timeouts
        self.height = 0
        self.decided = True
        self._out: list[Output] = []
        self._future: list[tuple[Proposal, Block] | Vote] = []

    # ------------------------------------------------------------------ events

    def start_height(self, height: int, vals: ValidatorSet, min_time: int) -> list[Output]:
        """Begin `height` with its validator set; `min_time` keeps vote times monotonic."""
        self.height, self.vals, self.min_time = height, vals, min_time
        self.round, self.step = -1, STEP_PROPOSE
        self.locked_value: Block | None = None
        self.locked_round = -1
        self.valid_value: Block | None = None
        self.valid_round = -1
        self.decided = False
        self.votes = HeightVotes(height, [v.voting_power for v in vals.validators])
        # round -> block hash -> the proposal and its block, in order of arrival
        self.proposals: dict[int, dict[bytes, tuple[Proposal, Block]]] = {}
        self.own: list[Proposal | Vote] = []
        self._valid: dict[bytes, bool] = {}
        self._fired: set[tuple[object, ...]] = set()
        self._wanted: list[tuple[int, bytes]] = []
        self._proposers: dict[int, int] = {}
        self._out = []
        self._start_round(0)
        self._run()
        future, self._future = self._future, []
        for m in future:
            try:
                if isinstance(m, Vote):
                    self._vote(m)
                else:
                    self._proposal(*m)
            except InvalidError:
                pass  # buffered before we knew this height's validators
        return self._flush()

    def on_proposal(self, proposal: Proposal, block: Block) -> list[Output]:
        self._proposal(proposal, block)
        return self._flush()

    def on_vote(self, vote: Vote) -> list[Output]:
        self._vote(vote)
        return self._flush()

    def on_timeout(self, kind: str, height: int, round_: int) -> list[Output]:
        if height == self.height and round_ == self.round and not self.decided:
            if kind == T_PROPOSE and self.step == STEP_PROPOSE:  # line 57
                self._prevote(None)
            elif kind == T_PREVOTE and self.step == STEP_PREVOTE:  # line 61
                self._precommit(None)
            elif kind == T_PRECOMMIT:  # line 65
                self._start_round(self.round + 1)
            self._run()
        return self._flush()

    # --------------------------------------------------------------- queries

    def proposer_index(self, round_: int) -> int:
        i = self._proposers.get(round_)
        if i is None:
            p = self.vals.copy_increment(round_).proposer()
            i = self._proposers[round_] = self.vals.index_of(p.address)  # type: ignore[assignment]
        return i  # type: ignore[return-value]

    def all_votes(self) -> list[Vote]:
        return self.votes.all_votes()

    def proposal_for(self, round_: int, block_hash: bytes) -> tuple[Proposal, Block] | None:
        return self.proposals.get(round_, {}).get(block_hash)

    def missing(self) -> list[tuple[int, bytes]]:
        """(round, block hash) named by a quorum and not received yet: what to fetch."""
        if self.decided:
            return []
        return [(r, h) for r, h in self._wanted if self.proposal_for(r, h) is None]

    # ------------------------------------------------------------- reception

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _buffer_future(self, m: tuple[Proposal, Block] | Vote) -> None:
        if len(self._future) < 4 * len(self.vals.validators) + 16:
            self._future.append(m)

    def _proposal(self, p: Proposal, block: Block) -> None:
        if p.height == self.height + 1:
            self._buffer_future((p, block))
            return
        if p.height != self.height or self.decided:
            return  # stale: normal under gossip, not an offence
        if p.round > self.round + MAX_ROUND_AHEAD:
            return
        idx = self.proposer_index(p.round)
        if not crypto.verify(self.vals.validators[idx].pub_key, p.sign_bytes(self.chain_id),
                             p.signature):
            raise SignatureError("proposal not signed by the round's proposer")
        if block.hash() != p.block_hash or block.height != p.height:
            raise InvalidError("proposal does not match its block")
        kept = self.proposals.setdefault(p.round, {})
        if p.block_hash in kept:
            return
        if len(kept) >= MAX_PROPOSALS_PER_ROUND:  # a Byzantine proposer: bound the memory
            if not self._named(p):
                return
            spare = [h for h, (q, _) in kept.items() if not self._named(q)]
            if not spare:
                return
            del kept[spare[0]]
        kept[p.block_hash] = (p, block)
        self.votes.note_sender(p.round, idx)
        if self.vals.validators[idx].address == self.address:
            self.own.append(p)  # ours, replayed from the WAL after a restart
        self._run()

    def _vote(self, v: Vote) -> None:
        if v.height == self.height + 1:
            self._buffer_future(v)
            return
        if v.height != self.height:
            return
        if v.validator_index >= len(self.vals.validators):
            raise InvalidError("vote from a non-validator")
        val = self.vals.validators[v.validator_index]
        if val.address != v.validator_address:
            raise InvalidError("vote from a non-validator")
        if not v.verify(self.chain_id, val.pub_key):
            raise SignatureError("bad vote signature")
        if self.decided or v.round > self.round + MAX_ROUND_AHEAD:
            return
        if v.validator_address == self.address and v not in self.own:
            self.own.append(v)  # ours, replayed from the WAL after a restart
        self._add_vote(v)
        self._run()

    def _add_vote(self, v: Vote) -> None:
        new, conflict = self.votes.add(v)
        if conflict is not None:
            self._out.append(Equivocation(conflict, v))

    # ------------------------------------------------------------------ rules

    def _run(self) -> None:
        while not self.decided and self._fire_one():
            pass

    def _is_valid(self, b: Block) -> bool:
        h = b.hash()
        ok = self._valid.get(h)
        if ok is None:
            ok = self._valid[h] = self.source.valid(b)
        return ok

    def _named(self, p: Proposal) -> bool:
        """Does a quorum name this proposal's block (the rules of lines 28, 36 and 49)?"""
        v, h = self.votes, p.block_hash
        return v.has_quorum_for(p.round, PREVOTE, h) or v.has_quorum_for(p.round, PRECOMMIT, h) \
            or (p.pol_round >= 0 and v.has_quorum_for(p.pol_round, PREVOTE, h))

    def _quorum_proposal(self, round_: int, type_: int) -> tuple[Proposal, Block] | None:
        """The proposal of `round_` whose block a quorum of `type_` votes names; asks for the
        block (once) when we lack it."""
        bh = self.votes.quorum_block(round_, type_)
        if bh is None:
            return None
        prop = self.proposal_for(round_, bh)
        if prop is None and ("want", round_, bh) not in self._fired:
            self._fired.add(("want", round_, bh))
            self._wanted.append((round_, bh))
            self._out.append(WantProposal(self.height, round_, bh))
        return prop

    def _fire_one(self) -> bool:
        votes, r = self.votes, self.round
        # line 49: a proposal of some round r' and +2/3 precommits for it in r' -> decide.
        for (rr, t), rv in votes.rounds.items():
            if t != PRECOMMIT or not votes.quorum(rv.power_any):
                continue
            prop = self._quorum_proposal(rr, PRECOMMIT)
            if prop is not None and self._is_valid(prop[1]):
                self._decide(rr, prop[1])
                return True
        # line 55: f+1 messages of a higher round -> skip to it.
        ahead = [rr for rr in votes.senders if rr > r and votes.one_third(votes.sender_power(rr))]
        if ahead:
            self._start_round(max(ahead))
            return True
        if self.step == STEP_PROPOSE:
            for p, b in self.proposals.get(r, {}).values():  # the first that enables a rule
                if p.pol_round == -1:  # line 22
                    ok = self._is_valid(b) and (self.locked_round == -1 or self._locked_is(b))
                    self._prevote(b.hash() if ok else None)
                    return True
                if p.pol_round < r and votes.has_quorum_for(p.pol_round, PREVOTE,
                                                            p.block_hash):  # line 28
                    ok = self._is_valid(b) and (self.locked_round <= p.pol_round
                                                or self._locked_is(b))
                    self._prevote(b.hash() if ok else None)
                    return True
        if self.step == STEP_PREVOTE and votes.quorum_any(r, PREVOTE) \
                and ("prevote-timeout", r) not in self._fired:  # line 34
            self._fired.add(("prevote-timeout", r))
            self._schedule(T_PREVOTE)
            return True
        prop = self._quorum_proposal(r, PREVOTE)  # asked for even before we prevote
        if prop is not None and self.step >= STEP_PREVOTE and ("lock", r) not in self._fired \
                and self._is_valid(prop[1]):  # line 36
            self._fired.add(("lock", r))
            if self.step == STEP_PREVOTE:
                self.locked_value, self.locked_round = prop[1], r
                self._precommit(prop[0].block_hash)
            self.valid_value, self.valid_round = prop[1], r
            return True
        if self.step == STEP_PREVOTE and votes.has_quorum_for(r, PREVOTE, None):  # line 44
            self._precommit(None)
            return True
        if votes.quorum_any(r, PRECOMMIT) and ("precommit-timeout", r) not in self._fired:  # 47
            self._fired.add(("precommit-timeout", r))
            self._schedule(T_PRECOMMIT)
            return True
        return False

    def _locked_is(self, b: Block) -> bool:
        return self.locked_value is not None and self.locked_value.hash() == b.hash()

    # ---------------------------------------------------------------- actions

    def _schedule(self, kind: str) -> None:
        self._out.append(ScheduleTimeout(kind, self.height, self.round,
                                         self.timeouts.duration(kind, self.round)))

    def _my_index(self) -> int | None:
        return None if self.address is None else self.vals.index_of(self.address)

    def _start_round(self, round_: int) -> None:  # line 11
        self.round, self.step = round_, STEP_PROPOSE
        me = self._my_index()
        if me is not None and self.proposer_index(round_) == me and self._propose(me):
            return
        self._schedule(T_PROPOSE)

    def _propose(self, me: int) -> bool:
        block = self.valid_value if self.valid_value is not None \
            else self.source.get_value(self.height, self.round)
        if block is None:
            return False
        p = Proposal(self.height, self.round, self.valid_round, block.hash(), self._now())
        signed = self.signer.sign_proposal(p)
        if signed is None:
            return False  # would conflict with what we signed before a crash: stay silent
        self.own.append(signed)
        self.proposals.setdefault(self.round, {})[signed.block_hash] = (signed, block)
        self.votes.note_sender(self.round, me)
        self._out.append(SendProposal(signed, block))
        return True

    def _now(self) -> int:
        return max(self.clock(), self.min_time)

    def _cast(self, type_: int, block_hash: bytes | None) -> None:
        me = self._my_index()
        if me is None:
            return
        v = Vote(type_, self.height, self.round, block_hash, self._now(), self.address or b"", me)
        signed = self.signer.sign_vote(v)
        if signed is None:
            return
        self.own.append(signed)
        self._add_vote(signed)
        self._out.append(SendVote(signed))

    def _prevote(self, block_hash: bytes | None) -> None:
        self._cast(PREVOTE, block_hash)
        self.step = STEP_PREVOTE

    def _precommit(self, block_hash: bytes | None) -> None:
        self._cast(PRECOMMIT, block_hash)
        self.step = STEP_PRECOMMIT

    def _decide(self, round_: int, block: Block) -> None:
        bh = block.hash()
        rv = self.votes.get(round_, PRECOMMIT)
        sigs = []
        for i, val in enumerate(self.vals.validators):
            mine = rv.by_value.get(i, {})
            v = mine.get(bh) or mine.get(None)
            if v is None:
                sigs.append(ABSENT)
            else:
                flag = FLAG_COMMIT if v.block_hash == bh else FLAG_NIL
                sigs.append(CommitSig(flag, val.address, v.timestamp, v.signature))
        self.decided = True
        self._out.append(Decided(block, Commit(self.height, round_, bh, tuple(sigs))))
