"""Evidence of misbehaviour: two signed votes by one validator for different blocks at the
same height and round, with what slashing needs to weigh it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..encoding import Value, encode
from .fields import nonneg, sha256, typed
from .validators import ValidatorSet
from .votes import Vote


@dataclass(frozen=True)
class DuplicateVoteEvidence:
    vote_a: Vote
    vote_b: Vote
    total_voting_power: int
    validator_power: int
    timestamp: int  # time of the block at the evidence's height

    @classmethod
    def make(cls, v1: Vote, v2: Vote, vals: ValidatorSet, block_time: int) -> DuplicateVoteEvidence:
        a, b = sorted((v1, v2), key=lambda v: v.block_hash or b"")
        val = vals.get(a.validator_address)
        return cls(a, b, vals.total_power, val.voting_power if val else 0, block_time)

    @property
    def height(self) -> int:
        return self.vote_a.height

    def to_obj(self) -> Value:
        return {"a": self.vote_a.to_obj(), "b": self.vote_b.to_obj(),
                "total_power": self.total_voting_power, "power": self.validator_power,
                "time": self.timestamp}

    @classmethod
    def from_obj(cls, d: Any) -> DuplicateVoteEvidence:
        return cls(Vote.from_obj(typed(d, "a", dict)), Vote.from_obj(typed(d, "b", dict)),
                   nonneg(d, "total_power"), nonneg(d, "power"), nonneg(d, "time"))

    def hash(self) -> bytes:
        return sha256(encode(self.to_obj()))
