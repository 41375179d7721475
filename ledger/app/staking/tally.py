"""What governance's tally reads from staking (gov.tally.TallySource).

A source is a snapshot: its first question reads every delegation in one pass (a tally asks
for the delegations of every voter, and a prefix scan per voter costs as much as the block's
pending writes), later questions answer from it. Make one per end of block: nothing that
governance executes changes delegations (the gov account can neither delegate nor hold any)."""

from __future__ import annotations

from ...encoding import decode
from .. import bank
from ..state import State
from . import store
from .store import BONDED, DELEGATION, Validator


class StakingTally:
    def __init__(self, state: State) -> None:
        self.state = state
        self._by_delegator: dict[bytes, list[tuple[bytes, int]]] | None = None

    def bonded_validators(self) -> list[Validator]:
        return [v for v in store.all_validators(self.state) if v.status == BONDED]

    def delegations_of(self, delegator: bytes) -> list[tuple[bytes, int]]:
        if self._by_delegator is None:
            index: dict[bytes, list[tuple[bytes, int]]] = {}
            n = len(DELEGATION)
            for k, raw in self.state.items(DELEGATION):
                index.setdefault(k[n:n + 20], []).append((k[n + 20:], decode(raw)))
            self._by_delegator = index
        return self._by_delegator.get(delegator, [])

    def total_bonded(self) -> int:
        return bank.balance(self.state, bank.module(bank.BONDED_POOL))


def tally_source(state: State) -> StakingTally:
    return StakingTally(state)
