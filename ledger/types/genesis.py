"""What a chain starts from: its genesis document and the consensus parameters that bound
blocks, transactions and the age of evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..encoding import Value, encode
from ..errors import DecodeError
from .fields import nonneg, sha256, typed
from .validators import ValidatorSet


@dataclass(frozen=True)
class ConsensusParams:
    max_block_bytes: int = 4 * 1024 * 1024
    max_tx_bytes: int = 64 * 1024
    max_evidence_age: int = 100_000  # in blocks

    def to_obj(self) -> Value:
        return {"max_block_bytes": self.max_block_bytes, "max_tx_bytes": self.max_tx_bytes,
                "max_evidence_age": self.max_evidence_age}

    @classmethod
    def from_obj(cls, d: Any) -> ConsensusParams:
        return cls(nonneg(d, "max_block_bytes", 1), nonneg(d, "max_tx_bytes", 1),
                   nonneg(d, "max_evidence_age", 1))

    def hash(self) -> bytes:
        return sha256(encode(self.to_obj()))


@dataclass(frozen=True)
class Genesis:
    chain_id: str
    genesis_time: int
    validators: tuple[tuple[bytes, int], ...]
    initial_height: int = 1
    app_state: Value = None
    params: ConsensusParams = ConsensusParams()

    def to_obj(self) -> Value:
        return {"chain_id": self.chain_id, "genesis_time": self.genesis_time,
                "initial_height": self.initial_height, "app_state": self.app_state,
                "validators": [{"pub_key": pk, "power": p} for pk, p in self.validators],
                "params": self.params.to_obj()}

    @classmethod
    def from_obj(cls, d: Any) -> Genesis:
        vals = tuple((typed(v, "pub_key", bytes, 32), nonneg(v, "power", 1))
                     for v in typed(d, "validators", list))
        chain_id = typed(d, "chain_id", str)
        if not 0 < len(chain_id) <= 50:
            raise DecodeError("chain id must be 1 to 50 characters")
        return cls(chain_id, nonneg(d, "genesis_time"), vals, nonneg(d, "initial_height", 1),
                   d.get("app_state"), ConsensusParams.from_obj(typed(d, "params", dict)))

    def validator_set(self) -> ValidatorSet:
        return ValidatorSet.new(self.validators)
