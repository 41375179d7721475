"""Blocks, headers, votes, proposals, commits, validator sets and evidence, shaped like
CometBFT's: sign bytes carry the chain id, header hashes are RFC 6962 Merkle roots of the
canonically encoded fields, proposer selection follows CometBFT's weighted priorities.

Every `from_obj` checks shape and sizes so that bytes from a peer either become a well-typed
object or raise `DecodeError`; semantic checks (signatures, heights) live with their users.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from .. import crypto, merkle
from ..encoding import Value, encode
from ..errors import DecodeError, InvalidError

PREVOTE = 1
PRECOMMIT = 2
PROPOSAL = 32
FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL = 1, 2, 3
BLOCK_VERSION = 11
MAX_TOTAL_VOTING_POWER = (2**63 - 1) // 8
PRIORITY_WINDOW_SIZE_FACTOR = 2


def sha256(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _f(d: Any, key: str, kind: type | tuple[type, ...], size: int | None = None) -> Any:
    """Fetch a typed field from a decoded dict, or raise DecodeError."""
    if not isinstance(d, dict) or key not in d:
        raise DecodeError(f"missing field {key!r}")
    v = d[key]
    if isinstance(v, bool) and kind is int:
        raise DecodeError(f"field {key!r} has the wrong type")
    if not isinstance(v, kind):
        raise DecodeError(f"field {key!r} has the wrong type")
    if size is not None and isinstance(v, bytes) and len(v) != size:
        raise DecodeError(f"field {key!r} must be {size} bytes")
    return v


def _hash_or_none(d: Any, key: str) -> bytes | None:
    v = _f(d, key, (bytes, type(None)))
    if v is not None and len(v) != 32:
        raise DecodeError(f"field {key!r} must be 32 bytes")
    return v  # type: ignore[no-any-return]


def _nonneg(d: Any, key: str, minimum: int = 0) -> int:
    v = _f(d, key, int)
    if v < minimum or v > 2**63 - 1:
        raise DecodeError(f"field {key!r} out of range")
    return v  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- votes


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
        return vote_sign_bytes(chain_id, self.type, self.height, self.round, self.block_hash, self.timestamp)

    def to_obj(self) -> Value:
        return {"type": self.type, "height": self.height, "round": self.round,
                "block": self.block_hash, "time": self.timestamp,
                "addr": self.validator_address, "index": self.validator_index,
                "sig": self.signature}

    @classmethod
    def from_obj(cls, d: Any) -> Vote:
        t = _f(d, "type", int)
        if t not in (PREVOTE, PRECOMMIT):
            raise DecodeError("unknown vote type")
        return cls(t, _nonneg(d, "height", 1), _nonneg(d, "round"), _hash_or_none(d, "block"),
                   _nonneg(d, "time"), _f(d, "addr", bytes, 20), _nonneg(d, "index"),
                   _f(d, "sig", bytes, crypto.SIG_SIZE))

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
        p = cls(_nonneg(d, "height", 1), _nonneg(d, "round"), _f(d, "pol_round", int),
                _f(d, "block", bytes, 32), _nonneg(d, "time"), _f(d, "sig", bytes, crypto.SIG_SIZE))
        if not -1 <= p.pol_round < p.round:
            raise DecodeError("pol_round must be -1 or an earlier round")
        return p

    def signed(self, key: crypto.PrivateKey, chain_id: str) -> Proposal:
        return replace(self, signature=key.sign(self.sign_bytes(chain_id)))


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
        flag = _f(d, "flag", int)
        if flag not in (FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL):
            raise DecodeError("unknown commit flag")
        if flag == FLAG_ABSENT:
            return cls(flag, _f(d, "addr", bytes, 0), _nonneg(d, "time"), _f(d, "sig", bytes, 0))
        return cls(flag, _f(d, "addr", bytes, 20), _nonneg(d, "time"),
                   _f(d, "sig", bytes, crypto.SIG_SIZE))


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
        sigs = _f(d, "sigs", list)
        return cls(_nonneg(d, "height", 1), _nonneg(d, "round"), _f(d, "block", bytes, 32),
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


# ------------------------------------------------------------------------- validators


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
        vals = _f(obj, "validators", list)
        vs = cls(Validator(_f(d, "pub_key", bytes, 32), _nonneg(d, "power", 1),
                           _f(d, "priority", int)) for d in vals)
        vs._proposer = vs.get(_f(obj, "proposer", bytes))
        return vs


def _neg(b: bytes) -> bytes:
    return bytes(255 - x for x in b)


# ---------------------------------------------------------------------------- evidence


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
        return cls(Vote.from_obj(_f(d, "a", dict)), Vote.from_obj(_f(d, "b", dict)),
                   _nonneg(d, "total_power"), _nonneg(d, "power"), _nonneg(d, "time"))

    def hash(self) -> bytes:
        return sha256(encode(self.to_obj()))


# ------------------------------------------------------------------------------ blocks

HEADER_FIELDS = ("version", "chain_id", "height", "time", "last_block_hash", "last_commit_hash",
                 "data_hash", "validators_hash", "next_validators_hash", "consensus_hash",
                 "app_hash", "last_results_hash", "evidence_hash", "proposer_address")


@dataclass(frozen=True)
class Header:
    chain_id: str
    height: int
    time: int
    last_block_hash: bytes  # b"" at the initial height
    last_commit_hash: bytes
    data_hash: bytes
    validators_hash: bytes
    next_validators_hash: bytes
    consensus_hash: bytes
    app_hash: bytes  # the application's state after the previous block
    last_results_hash: bytes
    evidence_hash: bytes
    proposer_address: bytes
    version: int = BLOCK_VERSION

    def to_obj(self) -> dict[str, Value]:
        return {k: getattr(self, k) for k in HEADER_FIELDS}

    @classmethod
    def from_obj(cls, d: Any) -> Header:
        kw: dict[str, Any] = {}
        for k in HEADER_FIELDS:
            if k in ("height", "time", "version"):
                kw[k] = _nonneg(d, k, 1 if k == "height" else 0)
            elif k == "chain_id":
                kw[k] = _f(d, k, str)
            else:
                v = _f(d, k, bytes)
                if len(v) > 64:
                    raise DecodeError(f"field {k!r} too long")
                kw[k] = v
        return cls(**kw)

    def hash(self) -> bytes:
        return self._hash

    @cached_property
    def _hash(self) -> bytes:
        # As CometBFT: the Merkle root of the encoded fields, in declaration order. Cached:
        # the header is immutable and its hash is asked for at every step.
        return merkle.root([encode(getattr(self, k)) for k in HEADER_FIELDS])


def txs_hash(txs: Sequence[bytes]) -> bytes:
    return merkle.root([sha256(t) for t in txs])


def evidence_hash(evs: Sequence[DuplicateVoteEvidence]) -> bytes:
    return merkle.root([e.hash() for e in evs])


@dataclass(frozen=True)
class Block:
    header: Header
    txs: tuple[bytes, ...]
    evidence: tuple[DuplicateVoteEvidence, ...]
    last_commit: Commit | None  # None only at the initial height

    @property
    def height(self) -> int:
        return self.header.height

    def hash(self) -> bytes:
        return self.header.hash()

    def to_obj(self) -> Value:
        return {"header": self.header.to_obj(), "txs": list(self.txs),
                "evidence": [e.to_obj() for e in self.evidence],
                "last_commit": None if self.last_commit is None else self.last_commit.to_obj()}

    @classmethod
    def from_obj(cls, d: Any) -> Block:
        txs = _f(d, "txs", list)
        if not all(isinstance(t, bytes) for t in txs):
            raise DecodeError("transactions must be bytes")
        lc = _f(d, "last_commit", (dict, type(None)))
        return cls(Header.from_obj(_f(d, "header", dict)), tuple(txs),
                   tuple(DuplicateVoteEvidence.from_obj(e) for e in _f(d, "evidence", list)),
                   None if lc is None else Commit.from_obj(lc))

    def check_hashes(self) -> None:
        """The header commits to the body: refuse blocks whose data does not match it."""
        h = self.header
        if h.data_hash != txs_hash(self.txs):
            raise InvalidError("data hash does not match the transactions")
        if h.evidence_hash != evidence_hash(self.evidence):
            raise InvalidError("evidence hash does not match the evidence")
        lc = b"" if self.last_commit is None else self.last_commit.hash()
        if h.last_commit_hash != lc:
            raise InvalidError("last commit hash does not match the last commit")


# ----------------------------------------------------------------------------- genesis


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
        return cls(_nonneg(d, "max_block_bytes", 1), _nonneg(d, "max_tx_bytes", 1),
                   _nonneg(d, "max_evidence_age", 1))

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
        vals = tuple((_f(v, "pub_key", bytes, 32), _nonneg(v, "power", 1))
                     for v in _f(d, "validators", list))
        chain_id = _f(d, "chain_id", str)
        if not 0 < len(chain_id) <= 50:
            raise DecodeError("chain id must be 1 to 50 characters")
        return cls(chain_id, _nonneg(d, "genesis_time"), vals, _nonneg(d, "initial_height", 1),
                   d.get("app_state"), ConsensusParams.from_obj(_f(d, "params", dict)))

    def validator_set(self) -> ValidatorSet:
        return ValidatorSet.new(self.validators)
