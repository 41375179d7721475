"""JSON views (hex hashes, base64 transactions) of blocks, validators and genesis, for the RPC,
the CLI and genesis files. These are for people and tools; hashing uses `encoding` only."""

from __future__ import annotations

import base64
from typing import Any

from ..errors import DecodeError
from ..types import Block, Commit, ConsensusParams, Genesis, ValidatorSet


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def commit_json(c: Commit | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"height": c.height, "round": c.round, "block_hash": c.block_hash.hex(),
            "signatures": [{"flag": s.flag, "validator_address": s.validator_address.hex(),
                            "timestamp": s.timestamp, "signature": b64(s.signature)}
                           for s in c.signatures]}


def block_json(block: Block, commit: Commit | None = None) -> dict[str, Any]:
    h = block.header
    header = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in h.to_obj().items()}
    return {"height": block.height, "hash": block.hash().hex(), "header": header,
            "txs": [b64(t) for t in block.txs], "num_txs": len(block.txs),
            "evidence": [{"type": "duplicate_vote",
                          "validator_address": e.vote_a.validator_address.hex(),
                          "height": e.height, "round": e.vote_a.round,
                          "hash": e.hash().hex()} for e in block.evidence],
            "last_commit": commit_json(block.last_commit),
            "commit": commit_json(commit)}


def validators_json(vs: ValidatorSet) -> list[dict[str, Any]]:
    return [{"address": v.address.hex(), "pub_key": b64(v.pub_key), "power": v.voting_power,
             "proposer_priority": v.proposer_priority} for v in vs.validators]


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
