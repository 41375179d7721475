"""Distribution parameters, under b"params/distribution". `burn_ppm` is our rule (kept from the
first fee module): a governance-set share of each block's rewards is burned before the rest is
shared; the others are x/distribution's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..staking.modparams import ModuleParams
from ..state import State


@dataclass(frozen=True)
class DistributionParams(ModuleParams):
    burn_ppm: int = 200_000  # of each block's fees and minted coins, burned
    community_tax_ppm: int = 20_000  # of the rest, to the community pool (Cosmos: 0.02)
    withdraw_addr_enabled: bool = True

    MODULE = "distribution"
    PPM_FIELDS = ("burn_ppm", "community_tax_ppm")


def load(state: State) -> DistributionParams:
    return DistributionParams.load(state)


def save(state: State, p: DistributionParams) -> None:
    p.save(state)


def from_obj(d: Any, base: DistributionParams | None = None) -> DistributionParams:
    return DistributionParams.from_obj(d, base)
