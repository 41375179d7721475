"""Market parameters, under b"params/market" (fractions in basis points, 10000 = all):

  extraction_bps      of each payment, kept by the protocol ("value extracted")
  burn_bps, community_bps, validators_bps
                      how the extracted part is shared: burned, to the community pool, to the
                      fee collector (so validators share it like fees); they sum to 10000
  curator_bps         of what is left, to the dataset's curators (by stake), when it has any
  min_provider_stake  ucom a provider stakes on each listing
  unbonding_blocks    blocks an unstaked (or delisted) stake waits, slashable, before its return
  max_contributors, max_curators   bounds of a listing's records (one store key each)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import INVALID_REQUEST, AppError
from ..staking.modparams import ModuleParams
from ..state import State

BPS = 10_000


@dataclass(frozen=True)
class MarketParams(ModuleParams):
    extraction_bps: int = 300
    burn_bps: int = 2_000
    community_bps: int = 4_000
    validators_bps: int = 4_000
    curator_bps: int = 1_000
    min_provider_stake: int = 0
    unbonding_blocks: int = 20
    max_contributors: int = 16
    max_curators: int = 100

    MODULE = "market"
    POSITIVE = ("max_contributors",)
    MAXIMA = {"extraction_bps": BPS, "burn_bps": BPS, "community_bps": BPS,
              "validators_bps": BPS, "curator_bps": BPS, "unbonding_blocks": 10_000_000,
              "max_contributors": 256, "max_curators": 1_000}

    def validate(self) -> None:
        super().validate()
        if self.burn_bps + self.community_bps + self.validators_bps != BPS:
            raise AppError(INVALID_REQUEST, "market parameters burn_bps, community_bps and "
                                            "validators_bps must sum to 10000")


def load(state: State) -> MarketParams:
    return MarketParams.load(state)


def save(state: State, p: MarketParams) -> None:
    p.save(state)


def from_obj(d: Any, base: MarketParams | None = None) -> MarketParams:
    return MarketParams.from_obj(d, base)
