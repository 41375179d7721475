"""What governance's tally reads from staking (gov.tally.TallySource)."""

from __future__ import annotations

from .. import bank
from ..state import State
from . import store
from .store import BONDED, Validator


class StakingTally:
    def __init__(self, state: State) -> None:
        self.state = state

    def bonded_validators(self) -> list[Validator]:
        return [v for v in store.all_validators(self.state) if v.status == BONDED]

    def delegations_of(self, delegator: bytes) -> list[tuple[bytes, int]]:
        return store.delegations_of(self.state, delegator)

    def total_bonded(self) -> int:
        return bank.balance(self.state, bank.module(bank.BONDED_POOL))


def tally_source(state: State) -> StakingTally:
    return StakingTally(state)
