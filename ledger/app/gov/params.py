"""Governance parameters (x/gov v1 code defaults; fractions in parts per million, amounts in
ucom, periods in seconds), stored under b"params/gov"."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from ...encoding import decode, encode
from ..errors import INVALID_REQUEST, AppError
from ..params import PPM, TEN_YEARS
from ..state import State

KEY = b"params/gov"
_PPM_FIELDS = ("quorum_ppm", "threshold_ppm", "veto_threshold_ppm",
               "min_initial_deposit_ratio_ppm", "min_deposit_ratio_ppm")
_BOOL_FIELDS = ("burn_vote_veto", "burn_vote_quorum", "burn_proposal_deposit_prevote")


@dataclass(frozen=True)
class GovParams:
    min_deposit: int = 10_000_000  # ucom that moves a proposal into its voting period
    max_deposit_period: int = 172_800  # seconds (2 days)
    voting_period: int = 172_800  # seconds (2 days)
    quorum_ppm: int = 334_000  # of bonded tokens that must vote
    threshold_ppm: int = 500_000  # yes must exceed this share of non-abstain votes
    veto_threshold_ppm: int = 334_000  # no_with_veto above this share of all votes rejects
    min_initial_deposit_ratio_ppm: int = 0  # of min_deposit, at submission
    min_deposit_ratio_ppm: int = 10_000  # of min_deposit, for each deposit (0.01)
    burn_vote_veto: bool = True
    burn_vote_quorum: bool = False
    burn_proposal_deposit_prevote: bool = False

    def to_obj(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_obj(cls, d: Any, base: GovParams | None = None) -> GovParams:
        """Parameters from a dict; missing fields keep `base`'s (default: the defaults)."""
        base = base or cls()
        if not isinstance(d, dict):
            raise AppError(INVALID_REQUEST, "gov params must be an object")
        known = {f.name for f in fields(cls)}
        for name in sorted(d):
            if name not in known:
                raise AppError(INVALID_REQUEST, f"unknown gov parameter {name!r}")
        p = replace(base, **d)
        p.validate()
        return p

    def validate(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _BOOL_FIELDS:
                if not isinstance(v, bool):
                    raise AppError(INVALID_REQUEST, f"gov parameter {f.name} must be true or false")
            elif not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise AppError(INVALID_REQUEST,
                               f"gov parameter {f.name} must be a non-negative integer")
        for name in _PPM_FIELDS:
            if getattr(self, name) > PPM:
                raise AppError(INVALID_REQUEST, f"gov parameter {name} must be at most {PPM}")
        for name in ("min_deposit", "max_deposit_period", "voting_period", "threshold_ppm",
                     "veto_threshold_ppm"):
            if getattr(self, name) == 0:
                raise AppError(INVALID_REQUEST, f"gov parameter {name} must be positive")
        for name in ("max_deposit_period", "voting_period"):  # they become 8-byte store keys
            if getattr(self, name) > TEN_YEARS:
                raise AppError(INVALID_REQUEST, f"gov parameter {name} must be at most "
                                                f"{TEN_YEARS} seconds (ten years)")

    def min_each_deposit(self) -> int:
        return self.min_deposit * self.min_deposit_ratio_ppm // PPM

    def min_initial_deposit(self) -> int:
        return self.min_deposit * self.min_initial_deposit_ratio_ppm // PPM


_DEFAULT = GovParams()


def load(state: State) -> GovParams:
    raw = state.get(KEY)
    return _DEFAULT if raw is None else GovParams.from_obj(decode(raw))


def save(state: State, p: GovParams) -> None:
    p.validate()
    state.set(KEY, encode(p.to_obj()))
