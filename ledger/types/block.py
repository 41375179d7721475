"""Blocks and their headers. A header hash is the RFC 6962 Merkle root of its canonically
encoded fields (as CometBFT's), and the header commits to the body through the hashes of the
transactions, the evidence and the last commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .. import merkle
from ..encoding import Value, encode
from ..errors import DecodeError, InvalidError
from .commit import Commit
from .evidence import DuplicateVoteEvidence
from .fields import nonneg, sha256, typed

BLOCK_VERSION = 11

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
                kw[k] = nonneg(d, k, 1 if k == "height" else 0)
            elif k == "chain_id":
                kw[k] = typed(d, k, str)
            else:
                v = typed(d, k, bytes)
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
        txs = typed(d, "txs", list)
        if not all(isinstance(t, bytes) for t in txs):
            raise DecodeError("transactions must be bytes")
        lc = typed(d, "last_commit", (dict, type(None)))
        return cls(Header.from_obj(typed(d, "header", dict)), tuple(txs),
                   tuple(DuplicateVoteEvidence.from_obj(e) for e in typed(d, "evidence", list)),
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
