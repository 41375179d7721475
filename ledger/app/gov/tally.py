"""Counting the votes of a proposal, as x/gov v1: a voter's power is what its delegations to
bonded validators are worth; a validator's vote carries the rest of its delegator shares (those
of delegators who did not vote themselves). Power of shares s of validator v is
s * v.tokens // v.delegator_shares.

Options are counted as power * weight (weights in ppm), so split votes lose nothing to
rounding; the pass rule then compares exact integer ratios:
  no bonded tokens                              -> rejected
  voted power < quorum * bonded tokens          -> rejected (deposits burned if burn_vote_quorum)
  everyone abstained                            -> rejected
  no_with_veto > veto_threshold * all votes     -> rejected, deposits burned if burn_vote_veto
  yes > threshold * (all votes - abstain)       -> passes
  otherwise                                     -> rejected"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..params import PPM
from ..state import State
from . import store
from .params import GovParams
from .store import ABSTAIN, NO, NO_WITH_VETO, YES


class BondedValidator(Protocol):
    @property
    def operator(self) -> bytes: ...  # the operator's account address (20 bytes)
    @property
    def tokens(self) -> int: ...
    @property
    def delegator_shares(self) -> int: ...


class TallySource(Protocol):
    """What the tally needs from staking (the staking module implements it)."""

    def bonded_validators(self) -> Iterable[BondedValidator]: ...
    def delegations_of(self, delegator: bytes) -> Iterable[tuple[bytes, int]]: ...
    def total_bonded(self) -> int: ...


@dataclass(frozen=True)
class Tally:
    """Sums of power * weight (ppm) per option, and the bonded tokens they are measured
    against."""

    yes: int
    abstain: int
    no: int
    no_with_veto: int
    total_bonded: int

    @property
    def total(self) -> int:
        return self.yes + self.abstain + self.no + self.no_with_veto

    def to_obj(self) -> dict[str, Any]:
        """In tokens (ucom of bonded stake), truncated."""
        return {"yes": self.yes // PPM, "abstain": self.abstain // PPM, "no": self.no // PPM,
                "no_with_veto": self.no_with_veto // PPM, "total_bonded": self.total_bonded}


def count(state: State, pid: int, source: TallySource) -> Tally:
    vals: dict[bytes, list[Any]] = {}  # operator -> [tokens, shares, deducted, options]
    for v in source.bonded_validators():
        if v.delegator_shares > 0:
            vals[v.operator] = [v.tokens, v.delegator_shares, 0, None]
    sums = [0, 0, 0, 0, 0]
    for voter, raw in store.votes(state, pid):
        options = store.decode_vote(raw)
        own = vals.get(voter)
        if own is not None:
            own[3] = options
        for operator, shares in source.delegations_of(voter):
            val = vals.get(operator)
            if val is None:
                continue  # a validator that is not bonded gives no power
            val[2] += shares
            power = shares * val[0] // val[1]
            for option, weight in options:
                sums[option] += power * weight
    for tokens, shares, deducted, options in vals.values():
        if options is not None:
            power = (shares - deducted) * tokens // shares
            for option, weight in options:
                sums[option] += power * weight
    return Tally(sums[YES], sums[ABSTAIN], sums[NO], sums[NO_WITH_VETO], source.total_bonded())


@dataclass(frozen=True)
class Outcome:
    passes: bool
    burn: bool  # the deposits are burned instead of refunded
    reason: str  # why, in a few words (the event's proposal_log)


def decide(t: Tally, p: GovParams) -> Outcome:
    if t.total_bonded <= 0:
        return Outcome(False, False, "no bonded tokens")
    if t.total < p.quorum_ppm * t.total_bonded:
        return Outcome(False, p.burn_vote_quorum, "quorum not reached")
    if t.total == t.abstain:
        return Outcome(False, False, "every vote abstained")
    if t.no_with_veto * PPM > p.veto_threshold_ppm * t.total:
        return Outcome(False, p.burn_vote_veto, "vetoed")
    if t.yes * PPM > p.threshold_ppm * (t.total - t.abstain):
        return Outcome(True, False, "threshold reached")
    return Outcome(False, False, "threshold not reached")
