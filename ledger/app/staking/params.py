"""Staking parameters (x/staking code defaults; periods in seconds), under b"params/staking"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..params import TEN_YEARS
from ..state import State
from .modparams import ModuleParams
from .store import POWER_REDUCTION

__all__ = ["POWER_REDUCTION", "StakingParams", "from_obj", "load", "save"]

DAY = 86_400


@dataclass(frozen=True)
class StakingParams(ModuleParams):
    unbonding_time: int = 21 * DAY  # seconds an undelegation or a leaving validator waits
    max_validators: int = 100
    max_entries: int = 7  # unbonding or redelegation entries per pair
    min_commission_ppm: int = 0

    MODULE = "staking"
    PPM_FIELDS = ("min_commission_ppm",)
    POSITIVE = ("max_validators", "max_entries")
    MAXIMA = {"unbonding_time": TEN_YEARS, "max_validators": 10_000, "max_entries": 1_000}


def load(state: State) -> StakingParams:
    return StakingParams.load(state)


def save(state: State, p: StakingParams) -> None:
    p.save(state)


def from_obj(d: Any, base: StakingParams | None = None) -> StakingParams:
    return StakingParams.from_obj(d, base)
