"""JSON views of blocks, commits, validators and ABCI results in CometBFT v0.38's RPC shapes
(string int64s, upper-case hex hashes, base64 bytes, RFC 3339 times with nanoseconds, amino
public keys), so that CometBFT clients read this chain unchanged; and the genesis file.
These are for people and tools: hashing uses `encoding` only, and our hashes are our own
encoding's, which clients only decode."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from .. import merkle
from ..abci import Event, ExecTxResult, ResponseCheckTx, ResponseQuery
from ..encoding import encode
from ..errors import DecodeError
from ..types import Block, Commit, ConsensusParams, Genesis, Header, ValidatorSet
from ..types.evidence import DuplicateVoteEvidence
from ..types.votes import Vote

EMPTY_BLOCK_ID: dict[str, Any] = {"hash": "", "parts": {"total": 0, "hash": ""}}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def hexu(b: bytes) -> str:
    return b.hex().upper()


def rfc3339(ms: int) -> str:
    """Milliseconds since the epoch as Go's RFC 3339 with nanoseconds (trailing zeros cut)."""
    t = _EPOCH + dt.timedelta(milliseconds=ms)
    frac = f"{ms % 1000:03d}000000".rstrip("0")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def from_rfc3339(s: str) -> int:
    """The inverse of `rfc3339` (milliseconds; finer digits are dropped)."""
    base, _, frac = s.rstrip("Z").partition(".")
    t = dt.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    return (t - _EPOCH) // dt.timedelta(milliseconds=1) + int((frac + "000")[:3])


def parts_hash(block: Block) -> bytes:
    """Our blocks travel whole: their part set is one part, the canonical encoding."""
    return merkle.root([encode(block.to_obj())])


def block_id(h: bytes, parts: bytes | None) -> dict[str, Any]:
    if not h:
        return EMPTY_BLOCK_ID
    return {"hash": hexu(h), "parts": {"total": 1 if parts else 0, "hash": hexu(parts or b"")}}


def pub_key(pk: bytes) -> dict[str, str]:
    return {"type": "tendermint/PubKeyEd25519", "value": b64(pk)}


def header_json(h: Header, last_parts: bytes | None) -> dict[str, Any]:
    return {"version": {"block": str(h.version), "app": "0"}, "chain_id": h.chain_id,
            "height": str(h.height), "time": rfc3339(h.time),
            "last_block_id": block_id(h.last_block_hash, last_parts),
            "last_commit_hash": hexu(h.last_commit_hash), "data_hash": hexu(h.data_hash),
            "validators_hash": hexu(h.validators_hash),
            "next_validators_hash": hexu(h.next_validators_hash),
            "consensus_hash": hexu(h.consensus_hash), "app_hash": hexu(h.app_hash),
            "last_results_hash": hexu(h.last_results_hash),
            "evidence_hash": hexu(h.evidence_hash),
            "proposer_address": hexu(h.proposer_address)}


def commit_json(c: Commit | None, parts: bytes | None) -> dict[str, Any]:
    if c is None:  # the initial height has no last commit: CometBFT's empty one
        return {"height": "0", "round": 0, "block_id": EMPTY_BLOCK_ID, "signatures": []}
    return {"height": str(c.height), "round": c.round, "block_id": block_id(c.block_hash, parts),
            "signatures": [{"block_id_flag": s.flag,
                            "validator_address": hexu(s.validator_address),
                            "timestamp": rfc3339(s.timestamp) if s.timestamp else
                            "0001-01-01T00:00:00Z",
                            "signature": b64(s.signature) if s.signature else None}
                           for s in c.signatures]}


def _vote_json(v: Vote) -> dict[str, Any]:
    return {"type": v.type, "height": str(v.height), "round": v.round,
            "block_id": block_id(v.block_hash or b"", None), "timestamp": rfc3339(v.timestamp),
            "validator_address": hexu(v.validator_address),
            "validator_index": v.validator_index, "signature": b64(v.signature)}


def evidence_json(e: DuplicateVoteEvidence) -> dict[str, Any]:
    return {"type": "tendermint/DuplicateVoteEvidence",
            "value": {"vote_a": _vote_json(e.vote_a), "vote_b": _vote_json(e.vote_b),
                      "TotalVotingPower": str(e.total_voting_power),
                      "ValidatorPower": str(e.validator_power),
                      "Timestamp": rfc3339(e.timestamp)}}


def block_json(block: Block, parts: bytes, last_parts: bytes | None) -> dict[str, Any]:
    """`block`'s result: {block_id, block: {header, data, evidence, last_commit}}."""
    return {"block_id": block_id(block.hash(), parts),
            "block": {"header": header_json(block.header, last_parts),
                      "data": {"txs": [b64(t) for t in block.txs]},
                      "evidence": {"evidence": [evidence_json(e) for e in block.evidence]},
                      "last_commit": commit_json(block.last_commit, last_parts)}}


def validator_json(v: Any) -> dict[str, Any]:
    return {"address": hexu(v.address), "pub_key": pub_key(v.pub_key),
            "voting_power": str(v.voting_power), "proposer_priority": str(v.proposer_priority)}


def validators_json(vs: ValidatorSet) -> list[dict[str, Any]]:
    return [validator_json(v) for v in vs.validators]


def events_json(events: tuple[Event, ...]) -> list[dict[str, Any]]:
    return [{"type": e.type, "attributes": [{"key": a.key, "value": a.value, "index": a.index}
                                            for a in e.attributes]} for e in events]


def exec_tx_result_json(r: ExecTxResult) -> dict[str, Any]:
    """As CometBFT's jsonpb with defaults emitted (its `tx_result`)."""
    return {"code": r.code, "data": b64(r.data) if r.data else None, "log": r.log, "info": "",
            "gas_wanted": str(r.gas_wanted), "gas_used": str(r.gas_used),
            "events": events_json(r.events), "codespace": r.codespace}


def check_tx_json(r: ResponseCheckTx) -> dict[str, Any]:
    return {"code": r.code, "data": None, "log": r.log, "info": "",
            "gas_wanted": str(r.gas_wanted), "gas_used": "0", "events": [],
            "codespace": r.codespace}


def query_json(r: ResponseQuery) -> dict[str, Any]:
    """`abci_query`'s response; a proof is one op of the application's `proof_type`."""
    ops = None
    if r.proof:
        ops = {"ops": [{"type": r.proof_type, "key": b64(r.key), "data": b64(r.proof)}]}
    return {"code": r.code, "log": r.log, "info": "", "index": "0",
            "key": b64(r.key) if r.key else None, "value": b64(r.value) if r.value else None,
            "proofOps": ops, "height": str(r.height), "codespace": r.codespace}


def genesis_to_json(g: Genesis) -> dict[str, Any]:
    return {"chain_id": g.chain_id, "genesis_time": g.genesis_time,
            "initial_height": g.initial_height,
            "validators": [{"pub_key": b64(pk), "power": p} for pk, p in g.validators],
            "params": g.params.to_obj(), "app_state": g.app_state}


def genesis_from_json(d: Any) -> Genesis:
    try:
        vals = tuple((base64.b64decode(v["pub_key"], validate=True), int(v["power"]))
                     for v in d["validators"])
        g = Genesis(str(d["chain_id"]), int(d["genesis_time"]), vals,
                    int(d.get("initial_height", 1)), d.get("app_state"),
                    ConsensusParams.from_obj(d["params"]))
    except (KeyError, TypeError, ValueError) as e:
        raise DecodeError(f"genesis is malformed: {e}") from e
    return Genesis.from_obj(g.to_obj())  # the same checks as any decoded genesis

