"""A commit: the +2/3 precommits that finalize a block, one slot per validator in set order,
which is what a block carries for its predecessor and what a light client checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import crypto, merkle
from ..encoding import Value, encode
from ..errors import DecodeError, InvalidError
from .fields import nonneg, typed
from .validators import ValidatorSet
from .votes import PRECOMMIT, Vote

FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL = 1, 2, 3


@dataclass(frozen=True)
class CommitSig:
    flag: int
    validator_address: bytes
    timestamp: int
    signature: bytes

    def to_obj(self) -> Value:
        return {"flag": self.flag, "addr": self.validator_address, "time": self.timestamp,
                "sig": self.signature}

    @classmethod
    def from_obj(cls, d: Any) -> CommitSig:
        flag = typed(d, "flag", int)
        if flag not in (FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL):
            raise DecodeError("unknown commit flag")
        if flag == FLAG_ABSENT:
            return cls(flag, typed(d, "addr", bytes, 0), nonneg(d, "time"),
                       typed(d, "sig", bytes, 0))
        return cls(flag, typed(d, "addr", bytes, 20), nonneg(d, "time"),
                   typed(d, "sig", bytes, crypto.SIG_SIZE))


ABSENT = CommitSig(FLAG_ABSENT, b"", 0, b"")


@dataclass(frozen=True)
class Commit:
    """+2/3 precommits for one block, one slot per validator in validator-set order."""

    height: int
    round: int
    block_hash: bytes
    signatures: tuple[CommitSig, ...]

    def to_obj(self) -> Value:
        return {"height": self.height, "round": self.round, "block": self.block_hash,
                "sigs": [s.to_obj() for s in self.signatures]}

    @classmethod
    def from_obj(cls, d: Any) -> Commit:
        sigs = typed(d, "sigs", list)
        return cls(nonneg(d, "height", 1), nonneg(d, "round"), typed(d, "block", bytes, 32),
                   tuple(CommitSig.from_obj(s) for s in sigs))

    def hash(self) -> bytes:
        return merkle.root([encode(s.to_obj()) for s in self.signatures])

    def vote(self, index: int) -> Vote:
        s = self.signatures[index]
        bh = self.block_hash if s.flag == FLAG_COMMIT else None
        return Vote(PRECOMMIT, self.height, self.round, bh, s.timestamp, s.validator_address,
                    index, s.signature)

    def verify(self, chain_id: str, vals: ValidatorSet, height: int, block_hash: bytes) -> None:
        """Raise InvalidError unless this is a +2/3 commit of `block_hash` at `height` by `vals`."""
        if self.height != height or self.block_hash != block_hash:
            raise InvalidError("commit is for another block")
        if len(self.signatures) != len(vals.validators):
            raise InvalidError("commit size differs from the validator set")
        power = 0
        for i, (s, v) in enumerate(zip(self.signatures, vals.validators, strict=True)):
            if s.flag == FLAG_ABSENT:
                continue
            if s.validator_address != v.address:
                raise InvalidError("commit signature from the wrong validator")
            if not self.vote(i).verify(chain_id, v.pub_key):
                raise InvalidError("bad signature in commit")
            if s.flag == FLAG_COMMIT:
                power += v.voting_power
        if 3 * power <= 2 * vals.total_power:
            raise InvalidError("commit lacks +2/3 of the voting power")

    def median_time(self, vals: ValidatorSet) -> int:
        """BFT time: the power-weighted median of the commit's timestamps (CometBFT MedianTime)."""
        weighted = sorted((s.timestamp, vals.validators[i].voting_power)
                          for i, s in enumerate(self.signatures) if s.flag == FLAG_COMMIT)
        median = sum(w for _, w in weighted) // 2
        for t, w in weighted:
            if median <= w:
                return t
            median -= w
        raise InvalidError("commit has no signatures")
