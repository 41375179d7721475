"""Minting (the Cosmos SDK's default minter), off unless governance or genesis turns it on.

Each block, with the bonded ratio b = bonded tokens / supply:
  inflation += (1 - b / goal_bonded) * inflation_rate_change / blocks_per_year,
  clamped to [inflation_min, inflation_max];
  provision = inflation * supply / blocks_per_year, minted to the fee collector (distribution
  shares it at the same block's start, as fees).
Parameters are in ppm; the inflation itself is kept scaled by 10^18 (a block's change is far
below a ppm). Store: b"mint/minter" -> {"inflation": int (DEC), "annual_provisions": int}.

The application wires `begin_block(state, ctx)` first among begin blockers, `genesis` for the
"mint" section, `queries`, and `MintParams` in governance's PARAM_MODULES."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...abci import Event
from ...encoding import decode, encode
from .. import bank
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, AppError
from ..params import PPM
from ..staking.modparams import ModuleParams
from ..state import State

DEC = 10**18
MINTER = b"mint/minter"


@dataclass(frozen=True)
class MintParams(ModuleParams):
    enabled: bool = False
    inflation_rate_change_ppm: int = 130_000
    inflation_max_ppm: int = 200_000
    inflation_min_ppm: int = 70_000
    goal_bonded_ppm: int = 670_000
    blocks_per_year: int = 6_311_520

    MODULE = "mint"
    PPM_FIELDS = ("inflation_rate_change_ppm", "inflation_max_ppm", "inflation_min_ppm",
                  "goal_bonded_ppm")
    POSITIVE = ("goal_bonded_ppm", "blocks_per_year")

    def validate(self) -> None:
        super().validate()
        if self.inflation_min_ppm > self.inflation_max_ppm:
            raise AppError(INVALID_REQUEST, "mint parameter inflation_min_ppm exceeds "
                                            "inflation_max_ppm")


def load_params(state: State) -> MintParams:
    return MintParams.load(state)


def save_params(state: State, p: MintParams) -> None:
    p.save(state)


def minter(state: State) -> dict[str, int]:
    raw = state.get(MINTER)
    return {"inflation": 130_000 * DEC // PPM, "annual_provisions": 0} if raw is None \
        else decode(raw)


def next_inflation(inflation: int, bonded: int, supply: int, p: MintParams) -> int:
    """The SDK's NextInflationRate over integers (DEC-scaled)."""
    ratio = bonded * DEC // supply if supply else 0
    change_per_year = (DEC - ratio * PPM // p.goal_bonded_ppm) * p.inflation_rate_change_ppm \
        // PPM
    inflation += change_per_year // p.blocks_per_year
    return max(p.inflation_min_ppm * DEC // PPM, min(p.inflation_max_ppm * DEC // PPM, inflation))


def begin_block(state: State, ctx: BlockContext) -> list[Event]:
    p = MintParams.load(state)
    if not p.enabled:
        return []
    supply = bank.supply(state)
    bonded = bank.balance(state, bank.module(bank.BONDED_POOL))
    inflation = next_inflation(minter(state)["inflation"], bonded, supply, p)
    annual = inflation * supply // DEC
    state.set(MINTER, encode({"inflation": inflation, "annual_provisions": annual}))
    provision = annual // p.blocks_per_year
    events = bank.mint(state, bank.FEE_COLLECTOR, provision)
    ratio = bonded * PPM // supply if supply else 0
    return events + [bank.event("mint", bonded_ratio_ppm=str(ratio),
                                inflation=str(inflation), annual_provisions=str(annual),
                                amount=bank.coins(provision))]


def genesis(state: State, section: Any, ctx: BlockContext) -> None:
    """The "mint" section: {"params": {...}, "inflation_ppm": int (start, default 130000)}."""
    section = section or {}
    if not isinstance(section, dict) or set(section) - {"params", "inflation_ppm"}:
        raise AppError(INVALID_REQUEST, "the mint genesis section is {\"params\": {...}, "
                                        "\"inflation_ppm\": int}")
    MintParams.from_obj(section.get("params") or {}).save(state)
    start = section.get("inflation_ppm", 130_000)
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= PPM:
        raise AppError(INVALID_REQUEST, f"mint inflation_ppm must be an integer from 0 to {PPM}")
    state.set(MINTER, encode({"inflation": start * DEC // PPM, "annual_provisions": 0}))


def query_minter(state: State) -> tuple[bytes, dict[str, Any]]:
    m = minter(state)
    return MINTER, {"inflation_ppm": m["inflation"] * PPM // DEC,
                    "inflation": str(m["inflation"]),
                    "annual_provisions": m["annual_provisions"]}


def query_params(state: State) -> tuple[bytes, dict[str, Any]]:
    return MintParams.key(), MintParams.load(state).to_obj()


PATHS = ("/mint/minter", "/mint/params")


def answer(state: State, path: str, data: bytes) -> tuple[bytes, dict[str, Any]]:
    if path == "/mint/minter":
        return query_minter(state)
    if path == "/mint/params":
        return query_params(state)
    from ..errors import UNKNOWN_REQUEST

    raise AppError(UNKNOWN_REQUEST, f"unknown query path {path[:64]!r} "
                                    f"(known: {', '.join(PATHS)})")
