"""Slashing parameters (x/slashing defaults; fractions in ppm, durations in seconds), under
b"params/slashing"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..params import TEN_YEARS
from ..staking.modparams import ModuleParams
from ..state import State


@dataclass(frozen=True)
class SlashingParams(ModuleParams):
    signed_blocks_window: int = 100
    min_signed_per_window_ppm: int = 500_000
    downtime_jail_duration: int = 600  # seconds
    slash_fraction_double_sign_ppm: int = 50_000
    slash_fraction_downtime_ppm: int = 10_000

    MODULE = "slashing"
    PPM_FIELDS = ("min_signed_per_window_ppm", "slash_fraction_double_sign_ppm",
                  "slash_fraction_downtime_ppm")
    POSITIVE = ("signed_blocks_window",)
    MAXIMA = {"signed_blocks_window": 1_000_000, "downtime_jail_duration": TEN_YEARS}

    def max_missed(self) -> int:
        """Missed blocks a window tolerates (the SDK rounds min signed to the nearest)."""
        min_signed = (self.signed_blocks_window * self.min_signed_per_window_ppm + 500_000) \
            // 1_000_000
        return self.signed_blocks_window - min_signed


def load(state: State) -> SlashingParams:
    return SlashingParams.load(state)


def save(state: State, p: SlashingParams) -> None:
    p.save(state)


def from_obj(d: Any, base: SlashingParams | None = None) -> SlashingParams:
    return SlashingParams.from_obj(d, base)
