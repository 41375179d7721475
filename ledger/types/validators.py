"""The validator set: validators ordered by power then address, its hash, and CometBFT's
weighted round-robin of proposer priorities (with Go's integer rounding, so that every node,
ours or CometBFT's, picks the same proposer)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import crypto, merkle
from ..encoding import Value, encode
from ..errors import InvalidError
from .fields import nonneg, typed

MAX_TOTAL_VOTING_POWER = (2**63 - 1) // 8
PRIORITY_WINDOW_SIZE_FACTOR = 2


@dataclass
class Validator:
    pub_key: bytes
    voting_power: int
    proposer_priority: int = 0
    address: bytes = field(default=b"", compare=False)

    def __post_init__(self) -> None:
        self.address = crypto.address(self.pub_key)

    def hash_bytes(self) -> bytes:
        return encode({"pub_key": self.pub_key, "power": self.voting_power})


def _trunc_div(a: int, b: int) -> int:
    """Go's integer division (truncates toward zero), which CometBFT's rescaling relies on."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


class ValidatorSet:
    """Validators sorted by power (desc) then address, with CometBFT's proposer priorities."""

    def __init__(self, validators: Iterable[Validator]) -> None:
        self.validators = sorted(validators, key=lambda v: (-v.voting_power, v.address))
        self._index = {v.address: i for i, v in enumerate(self.validators)}
        if len(self._index) != len(self.validators):
            raise InvalidError("duplicate validator")
        self.total_power = sum(v.voting_power for v in self.validators)
        # As CometBFT: the proposer is the validator picked by the last increment (not the
        # current maximum, which after the pick is someone else).
        self._proposer: Validator | None = None
        if any(v.voting_power <= 0 for v in self.validators):
            raise InvalidError("validator power must be positive")
        if self.total_power > MAX_TOTAL_VOTING_POWER:
            raise InvalidError("total voting power too large")
        self._hash: bytes | None = None

    @classmethod
    def new(cls, validators: Iterable[tuple[bytes, int]]) -> ValidatorSet:
        vs = cls(Validator(pk, p) for pk, p in validators)
        if not vs.validators:
            raise InvalidError("a validator set needs at least one validator")
        vs._increment(1)  # as NewValidatorSet
        return vs

    def copy(self) -> ValidatorSet:
        vs = ValidatorSet(Validator(v.pub_key, v.voting_power, v.proposer_priority)
                          for v in self.validators)
        if self._proposer is not None:
            vs._proposer = vs.get(self._proposer.address)
        return vs

    def index_of(self, address: bytes) -> int | None:
        return self._index.get(address)

    def get(self, address: bytes) -> Validator | None:
        i = self._index.get(address)
        return None if i is None else self.validators[i]

    def hash(self) -> bytes:
        if self._hash is None:
            self._hash = merkle.root([v.hash_bytes() for v in self.validators])
        return self._hash

    def proposer(self) -> Validator:
        if self._proposer is None:
            self._proposer = self._most_priority()
        return self._proposer

    def _most_priority(self) -> Validator:
        # Ties go to the lowest address.
        return max(self.validators, key=lambda v: (v.proposer_priority, _neg(v.address)))

    def copy_increment(self, times: int) -> ValidatorSet:
        vs = self.copy()
        if times > 0:
            vs._increment(times)
        return vs

    def _increment(self, times: int) -> None:
        self._rescale(PRIORITY_WINDOW_SIZE_FACTOR * self.total_power)
        self._shift_by_avg()
        for _ in range(times):
            for v in self.validators:
                v.proposer_priority += v.voting_power
            self._proposer = self._most_priority()
            self._proposer.proposer_priority -= self.total_power

    def _rescale(self, diff_max: int) -> None:
        if not self.validators or diff_max <= 0:
            return
        prios = [v.proposer_priority for v in self.validators]
        diff = max(prios) - min(prios)
        if diff > diff_max:
            ratio = (diff + diff_max - 1) // diff_max
            for v in self.validators:
                v.proposer_priority = _trunc_div(v.proposer_priority, ratio)

    def _shift_by_avg(self) -> None:
        n = len(self.validators)
        if n:
            avg = sum(v.proposer_priority for v in self.validators) // n  # big.Int Div: floor
            for v in self.validators:
                v.proposer_priority -= avg

    def update(self, changes: Sequence[tuple[bytes, int]]) -> ValidatorSet:
        """A new set with `(pub_key, power)` changes applied (power 0 removes), as CometBFT's
        UpdateWithChangeSet: newcomers start at -1.125 * total so they cannot jump the queue."""
        seen: set[bytes] = set()
        for pk, p in changes:
            if pk in seen or p < 0 or len(pk) != crypto.PUBKEY_SIZE:
                raise InvalidError("invalid validator update")
            seen.add(pk)
        cur = {v.pub_key: Validator(v.pub_key, v.voting_power, v.proposer_priority)
               for v in self.validators}
        for pk, p in changes:
            if p == 0 and pk not in cur:
                raise InvalidError("cannot remove a validator that is not in the set")
        # CometBFT's verifyUpdates: total after updates, before removals.
        new_total = self.total_power + sum(p - (cur[pk].voting_power if pk in cur else 0)
                                           for pk, p in changes if p > 0)
        for pk, p in sorted(changes):
            if p == 0:
                del cur[pk]
            elif pk in cur:
                cur[pk].voting_power = p
            else:
                cur[pk] = Validator(pk, p, -(new_total + (new_total >> 3)))
        if not cur:
            raise InvalidError("validator updates would remove every validator")
        vs = ValidatorSet(cur.values())
        vs._rescale(PRIORITY_WINDOW_SIZE_FACTOR * vs.total_power)
        vs._shift_by_avg()
        return vs

    def to_obj(self) -> Value:
        return {"validators": [{"pub_key": v.pub_key, "power": v.voting_power,
                                "priority": v.proposer_priority} for v in self.validators],
                "proposer": self.proposer().address}

    @classmethod
    def from_obj(cls, obj: Any) -> ValidatorSet:
        vals = typed(obj, "validators", list)
        vs = cls(Validator(typed(d, "pub_key", bytes, 32), nonneg(d, "power", 1),
                           typed(d, "priority", int)) for d in vals)
        vs._proposer = vs.get(typed(obj, "proposer", bytes))
        return vs


def _neg(b: bytes) -> bytes:
    return bytes(255 - x for x in b)

