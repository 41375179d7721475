"""Signed headers as the light client checks them, whichever engine made them: the header's
hash, its app hash and validators hash, and each commit signature with the bytes it signs,
all computed here the way the engine computes them (ours: canonical encoding; CometBFT:
protobuf). The node's /status names its engine; what is verified never depends on the node's
word, since a header only counts when the trusted validators signed its hash."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from .cometbft import light as comet
from .consensus.views import from_rfc3339
from .types import Commit, CommitSig, Header, Validator, ValidatorSet
from .types.commit import FLAG_ABSENT

OURS, COMETBFT = "communs", "cometbft"
OUR_VERSION_SUFFIX = "+communs"  # our node's node_info.version ("0.38.0+communs")


def engine_of(status: dict[str, Any]) -> str:
    """The engine behind a node, from its /status: ours says so in node_info.version."""
    version = str(status["node_info"]["version"])
    return OURS if version.endswith(OUR_VERSION_SUFFIX) else COMETBFT


@dataclass(frozen=True)
class Sig:
    flag: int
    validator_address: bytes
    sign_bytes: bytes  # what the validator signed (empty when absent)
    signature: bytes


@dataclass(frozen=True)
class SignedBlock:
    chain_id: str
    height: int
    hash: bytes  # the header's hash, computed here
    app_hash: bytes
    validators_hash: bytes
    commit_height: int
    commit_block_hash: bytes
    sigs: tuple[Sig, ...]


def header_from_json(h: dict[str, Any]) -> Header:
    """Our Header back from CometBFT's JSON shape (the inverse of views.header_json)."""
    return Header(
        chain_id=str(h["chain_id"]), height=int(h["height"]), time=from_rfc3339(h["time"]),
        last_block_hash=bytes.fromhex(h["last_block_id"]["hash"] or ""),
        **{k: bytes.fromhex(h[k] or "") for k in (
            "last_commit_hash", "data_hash", "validators_hash", "next_validators_hash",
            "consensus_hash", "app_hash", "last_results_hash", "evidence_hash",
            "proposer_address")},
        version=int(h["version"]["block"]))


def commit_from_json(c: dict[str, Any]) -> Commit:
    sigs = []
    for s in c["signatures"]:
        flag = int(s["block_id_flag"])
        t = s.get("timestamp") or ""
        sig = base64.b64decode(s.get("signature") or "", validate=True)
        sigs.append(CommitSig(flag, bytes.fromhex(s.get("validator_address") or ""),
                              0 if t.startswith("0001-") or not t else from_rfc3339(t), sig))
    return Commit(int(c["height"]), int(c["round"]), bytes.fromhex(c["block_id"]["hash"] or ""),
                  tuple(sigs))


def validators_from_json(vals: list[dict[str, Any]]) -> ValidatorSet:
    return ValidatorSet(Validator(base64.b64decode(v["pub_key"], validate=True), int(v["power"]))
                        for v in vals)


def signed_block(engine: str, signed: dict[str, Any], chain_id: str) -> SignedBlock:
    """A /commit answer's signed header, hashed and its votes' sign bytes built as `engine`
    does, for `chain_id` (the trusted one: a vote of another chain signs other bytes)."""
    h = signed["header"]
    if engine == COMETBFT:
        header = comet.Header.from_json(h)
        height, bid, csigs = comet.commit_sigs(signed["commit"], chain_id)
        return SignedBlock(header.chain_id, header.height, header.hash(), header.app_hash,
                           header.validators_hash, height, bid.hash,
                           tuple(Sig(s.flag, s.validator_address, s.sign_bytes, s.signature)
                                 for s in csigs))
    ours = header_from_json(h)
    commit = commit_from_json(signed["commit"])
    sigs = tuple(Sig(s.flag, s.validator_address,
                     b"" if s.flag == FLAG_ABSENT else commit.vote(i).sign_bytes(chain_id),
                     s.signature) for i, s in enumerate(commit.signatures))
    return SignedBlock(ours.chain_id, ours.height, ours.hash(), ours.app_hash,
                       ours.validators_hash, commit.height, commit.block_hash, sigs)


def validators_hash(engine: str, vals: ValidatorSet) -> bytes:
    if engine == COMETBFT:
        return comet.validators_hash([(v.pub_key, v.voting_power) for v in vals.validators])
    return vals.hash()
