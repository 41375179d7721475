"""CometBFT v0.38's hashes and sign bytes, for the light client to verify headers that a
CometBFT node sent: a header hashes to the RFC 6962 Merkle root of its fields, each in its
protobuf encoding (scalars wrapped in the well-known *Value messages, as `cdcEncode`); a
validator set to the root of its `SimpleValidator`s; a commit's precommit signs the
length-prefixed protobuf `CanonicalVote`. Written from types/block.go, types/vote.go,
types/canonical.go and types/validator_set.go; pure functions over the RPC's JSON shapes."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import merkle

PRECOMMIT = 2  # tendermint.types.SignedMsgType
FLAG_COMMIT, FLAG_NIL = 2, 3
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_U64 = 1 << 64


# ------------------------------------------------------------ protobuf, the parts we need

def varint(n: int) -> bytes:
    """An unsigned LEB128 varint; a negative int64 as Go encodes it (ten bytes)."""
    n %= _U64
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(num: int, wire: int) -> bytes:
    return varint(num << 3 | wire)


def f_varint(num: int, n: int) -> bytes:
    """An int64/uint64/enum field (proto3: a zero is not written)."""
    return _key(num, 0) + varint(n) if n else b""


def f_sfixed64(num: int, n: int) -> bytes:
    return _key(num, 1) + (n % _U64).to_bytes(8, "little") if n else b""


def f_bytes(num: int, b: bytes, always: bool = False) -> bytes:
    """A bytes, string or message field; `always` for gogoproto's non-nullable messages."""
    return _key(num, 2) + varint(len(b)) + b if b or always else b""


def timestamp(seconds: int, nanos: int) -> bytes:
    """google.protobuf.Timestamp."""
    return f_varint(1, seconds) + f_varint(2, nanos)


def parse_time(s: str) -> tuple[int, int]:
    """An RFC 3339 time with up to nine fraction digits as (seconds since the epoch, nanos),
    exactly: the header hash and the sign bytes cover the nanoseconds."""
    if not s.endswith("Z"):
        raise ValueError(f"time {s!r} is not in UTC")
    base, _, frac = s[:-1].partition(".")
    if len(frac) > 9 or (frac and not frac.isdigit()):
        raise ValueError(f"malformed time {s!r}")
    t = dt.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    return (t - _EPOCH) // dt.timedelta(seconds=1), int((frac + "000000000")[:9])


# ------------------------------------------------------------ block ids and headers

@dataclass(frozen=True)
class BlockID:
    hash: bytes
    parts_total: int
    parts_hash: bytes

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BlockID:
        parts = d.get("parts") or d.get("part_set_header") or {}
        return cls(_hex(d.get("hash")), int(parts.get("total") or 0), _hex(parts.get("hash")))

    def is_zero(self) -> bool:
        return not self.hash and not self.parts_total and not self.parts_hash

    def proto(self) -> bytes:
        psh = f_varint(1, self.parts_total) + f_bytes(2, self.parts_hash)
        return f_bytes(1, self.hash) + f_bytes(2, psh, always=True)

    def canonical(self) -> bytes:
        """CanonicalBlockID: the same fields, the same numbers (and so the same bytes)."""
        return self.proto()


def _wrapped(v: str | int | bytes) -> bytes:
    """cdcEncode: StringValue / Int64Value / BytesValue, empty for an empty value."""
    if isinstance(v, int):
        return f_varint(1, v)
    return f_bytes(1, v.encode() if isinstance(v, str) else v)


_HASHES = ("last_commit_hash", "data_hash", "validators_hash", "next_validators_hash",
           "consensus_hash", "app_hash", "last_results_hash", "evidence_hash",
           "proposer_address")


@dataclass(frozen=True)
class Header:
    version_block: int
    version_app: int
    chain_id: str
    height: int
    time: tuple[int, int]  # (seconds, nanos)
    last_block_id: BlockID
    last_commit_hash: bytes
    data_hash: bytes
    validators_hash: bytes
    next_validators_hash: bytes
    consensus_hash: bytes
    app_hash: bytes
    last_results_hash: bytes
    evidence_hash: bytes
    proposer_address: bytes

    @classmethod
    def from_json(cls, h: dict[str, Any]) -> Header:
        v = h["version"]
        return cls(int(v.get("block") or 0), int(v.get("app") or 0), str(h["chain_id"]),
                   int(h["height"]), parse_time(h["time"]),
                   BlockID.from_json(h["last_block_id"]), *(_hex(h[k]) for k in _HASHES))

    def hash(self) -> bytes:
        if not self.validators_hash:  # as Header.Hash: a header without validators has none
            return b""
        return merkle.root([
            f_varint(1, self.version_block) + f_varint(2, self.version_app),
            _wrapped(self.chain_id), _wrapped(self.height), timestamp(*self.time),
            self.last_block_id.proto(), *(_wrapped(getattr(self, k)) for k in _HASHES)])


# ------------------------------------------------------------ votes and validator sets

def vote_sign_bytes(chain_id: str, type_: int, height: int, round_: int,
                    block_id: BlockID | None, time: tuple[int, int]) -> bytes:
    """VoteSignBytes: the varint-length-delimited CanonicalVote (a vote for nil, or an empty
    block id, carries no block id)."""
    bid = b"" if block_id is None or block_id.is_zero() else f_bytes(4, block_id.canonical(),
                                                                   always=True)
    body = (f_varint(1, type_) + f_sfixed64(2, height) + f_sfixed64(3, round_) + bid
            + f_bytes(5, timestamp(*time), always=True) + f_bytes(6, chain_id.encode()))
    return varint(len(body)) + body


def validator_bytes(pub_key: bytes, power: int) -> bytes:
    """SimpleValidator{PublicKey{ed25519}, voting_power}."""
    return f_bytes(1, f_bytes(1, pub_key, always=True), always=True) + f_varint(2, power)


def validators_hash(validators: Sequence[tuple[bytes, int]]) -> bytes:
    """ValidatorSet.Hash over (ed25519 public key, voting power) in the set's order."""
    return merkle.root([validator_bytes(pk, p) for pk, p in validators])


# ------------------------------------------------------------ a commit's signatures

@dataclass(frozen=True)
class CommitSig:
    flag: int
    validator_address: bytes
    sign_bytes: bytes  # what the validator signed (empty when absent)
    signature: bytes


def commit_sigs(commit: dict[str, Any], chain_id: str) -> tuple[int, BlockID,
                                                                  tuple[CommitSig, ...]]:
    """(height, block id, signatures with their sign bytes) of a commit in the RPC's shape;
    each signature's vote is rebuilt as Commit.GetVote does."""
    height, round_ = int(commit["height"]), int(commit["round"])
    bid = BlockID.from_json(commit["block_id"])
    sigs = []
    for s in commit["signatures"]:
        flag = int(s["block_id_flag"])
        sig = base64.b64decode(s.get("signature") or "", validate=True)
        signed = b""
        if flag in (FLAG_COMMIT, FLAG_NIL):
            signed = vote_sign_bytes(chain_id, PRECOMMIT, height, round_,
                                     bid if flag == FLAG_COMMIT else None,
                                     parse_time(s["timestamp"]))
        sigs.append(CommitSig(flag, _hex(s.get("validator_address")), signed, sig))
    return height, bid, tuple(sigs)


def _hex(v: Any) -> bytes:
    return bytes.fromhex(v or "")
