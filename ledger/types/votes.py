"""What a validator signs during a round: the proposal of a block and its prevotes and
precommits. Sign bytes carry the chain id (as CometBFT's canonical forms) so that a signature
cannot be replayed on another chain."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import crypto
from ..encoding import Value, encode
from ..errors import DecodeError
from .fields import hash_or_none, nonneg, typed

PREVOTE = 1
PRECOMMIT = 2
PROPOSAL = 32


@dataclass(frozen=True)
class Vote:
    type: int
    height: int
    round: int
    block_hash: bytes | None  # None is a vote for nil
    timestamp: int  # milliseconds since the epoch; integers only
    validator_address: bytes
    validator_index: int
    signature: bytes = b""

    def sign_bytes(self, chain_id: str) -> bytes:
        return vote_sign_bytes(chain_id, self.type, self.height, self.round, self.block_hash,
                               self.timestamp)

    def to_obj(self) -> Value:
        return {"type": self.type, "height": self.height, "round": self.round,
                "block": self.block_hash, "time": self.timestamp,
                "addr": self.validator_address, "index": self.validator_index,
                "sig": self.signature}

    @classmethod
    def from_obj(cls, d: Any) -> Vote:
        t = typed(d, "type", int)
        if t not in (PREVOTE, PRECOMMIT):
            raise DecodeError("unknown vote type")
        return cls(t, nonneg(d, "height", 1), nonneg(d, "round"), hash_or_none(d, "block"),
                   nonneg(d, "time"), typed(d, "addr", bytes, 20), nonneg(d, "index"),
                   typed(d, "sig", bytes, crypto.SIG_SIZE))

    def signed(self, key: crypto.PrivateKey, chain_id: str) -> Vote:
        return replace(self, signature=key.sign(self.sign_bytes(chain_id)))

    def verify(self, chain_id: str, pub_key: bytes) -> bool:
        return crypto.address(pub_key) == self.validator_address and crypto.verify(
            pub_key, self.sign_bytes(chain_id), self.signature)


def vote_sign_bytes(chain_id: str, type_: int, height: int, round_: int,
                    block_hash: bytes | None, timestamp: int) -> bytes:
    # As CometBFT's CanonicalVote: the chain id is signed so a vote cannot be replayed elsewhere.
    return encode({"type": type_, "height": height, "round": round_, "block": block_hash,
                   "time": timestamp, "chain_id": chain_id})


@dataclass(frozen=True)
class Proposal:
    height: int
    round: int
    pol_round: int  # -1 when the proposer has no valid value from an earlier round
    block_hash: bytes
    timestamp: int
    signature: bytes = b""

    def sign_bytes(self, chain_id: str) -> bytes:
        return encode({"type": PROPOSAL, "height": self.height, "round": self.round,
                       "pol_round": self.pol_round, "block": self.block_hash,
                       "time": self.timestamp, "chain_id": chain_id})

    def to_obj(self) -> Value:
        return {"height": self.height, "round": self.round, "pol_round": self.pol_round,
                "block": self.block_hash, "time": self.timestamp, "sig": self.signature}

    @classmethod
    def from_obj(cls, d: Any) -> Proposal:
        p = cls(nonneg(d, "height", 1), nonneg(d, "round"), typed(d, "pol_round", int),
                typed(d, "block", bytes, 32), nonneg(d, "time"),
                typed(d, "sig", bytes, crypto.SIG_SIZE))
        if not -1 <= p.pol_round < p.round:
            raise DecodeError("pol_round must be -1 or an earlier round")
        return p

    def signed(self, key: crypto.PrivateKey, chain_id: str) -> Proposal:
        return replace(self, signature=key.sign(self.sign_bytes(chain_id)))
