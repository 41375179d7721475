"""Wire messages between replicas, in the canonical encoding (one tagged dict each)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..encoding import decode, encode
from ..errors import DecodeError
from ..types import Block, Commit, DuplicateVoteEvidence, Proposal, Vote

MAX_MESSAGE = 8 * 1024 * 1024


@dataclass(frozen=True)
class ProposalMsg:
    proposal: Proposal
    block: Block


@dataclass(frozen=True)
class VoteMsg:
    vote: Vote


@dataclass(frozen=True)
class EvidenceMsg:
    evidence: DuplicateVoteEvidence


@dataclass(frozen=True)
class StatusMsg:
    height: int  # last committed height


@dataclass(frozen=True)
class BlockRequest:
    height: int


@dataclass(frozen=True)
class BlockResponse:
    block: Block
    commit: Commit


@dataclass(frozen=True)
class ProposalRequest:
    """Ask a peer for the proposal of (height, round) with this block, which a quorum of votes
    names and we lack; answered with the ProposalMsg, or not at all (never an offence)."""

    height: int
    round: int
    block_hash: bytes


@dataclass(frozen=True)
class TxMsg:
    txs: tuple[bytes, ...]  # batched: one message carries many small transactions


Message = ProposalMsg | VoteMsg | EvidenceMsg | StatusMsg | BlockRequest | BlockResponse | TxMsg \
    | ProposalRequest


def encode_msg(m: Message) -> bytes:
    if isinstance(m, ProposalMsg):
        body: Any = {"t": "proposal", "p": m.proposal.to_obj(), "b": m.block.to_obj()}
    elif isinstance(m, VoteMsg):
        body = {"t": "vote", "v": m.vote.to_obj()}
    elif isinstance(m, EvidenceMsg):
        body = {"t": "evidence", "e": m.evidence.to_obj()}
    elif isinstance(m, StatusMsg):
        body = {"t": "status", "h": m.height}
    elif isinstance(m, BlockRequest):
        body = {"t": "block_req", "h": m.height}
    elif isinstance(m, BlockResponse):
        body = {"t": "block", "b": m.block.to_obj(), "c": m.commit.to_obj()}
    elif isinstance(m, ProposalRequest):
        body = {"t": "prop_req", "h": m.height, "r": m.round, "b": m.block_hash}
    else:
        body = {"t": "tx", "txs": list(m.txs)}
    return encode(body)


def _height(d: dict[str, Any]) -> int:
    h = d.get("h")
    if not isinstance(h, int) or isinstance(h, bool) or not 0 <= h < 2**63:
        raise DecodeError("bad height")
    return h


def _proposal_request(d: dict[str, Any]) -> ProposalRequest:
    r, b = d.get("r"), d.get("b")
    if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < 2**31:
        raise DecodeError("bad round")
    if not isinstance(b, bytes) or len(b) != 32:
        raise DecodeError("bad block hash")
    return ProposalRequest(_height(d), r, b)


def decode_msg(data: bytes) -> Message:
    """Raise DecodeError for anything that is not exactly one well-formed message."""
    d = decode(data, MAX_MESSAGE)
    if not isinstance(d, dict):
        raise DecodeError("message is not a dict")
    t = d.get("t")
    try:
        if t == "proposal":
            return ProposalMsg(Proposal.from_obj(d["p"]), Block.from_obj(d["b"]))
        if t == "vote":
            return VoteMsg(Vote.from_obj(d["v"]))
        if t == "evidence":
            return EvidenceMsg(DuplicateVoteEvidence.from_obj(d["e"]))
        if t == "status":
            return StatusMsg(_height(d))
        if t == "block_req":
            return BlockRequest(_height(d))
        if t == "prop_req":
            return _proposal_request(d)
        if t == "block":
            return BlockResponse(Block.from_obj(d["b"]), Commit.from_obj(d["c"]))
        txs = d.get("txs")
        if t == "tx" and isinstance(txs, list) and all(isinstance(x, bytes) for x in txs):
            return TxMsg(tuple(txs))
    except (KeyError, TypeError, ValueError) as e:
        raise DecodeError(f"malformed {t} message") from e
    raise DecodeError("unknown message type")
