"""CometBFT's header hash, validator set hash and vote sign bytes as ledger/cometbft/light.py
computes them, against CometBFT's own test vectors, vectors its code computed, and a block a
real CometBFT network signed (tests/ledger/vectors/, each file names its source); no Go
needed."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.cometbft import light as comet
from ledger.errors import InvalidError
from ledger.light import validators_from_json, verify_commit
from ledger.lightblocks import COMETBFT, OURS, engine_of, signed_block, validators_hash
from ledger.types import ValidatorSet

VECTORS = Path(__file__).parent / "vectors"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def test_upstream_header_hash_and_vote_sign_bytes() -> None:
    up = _load("cometbft_v0.38_upstream.json")
    header = comet.Header.from_json(up["header_hash"]["header"])
    assert header.hash().hex().upper() == up["header_hash"]["hash"]
    zero = comet.parse_time("0001-01-01T00:00:00Z")
    for v in up["vote_sign_bytes"]:
        got = comet.vote_sign_bytes(v["chain_id"], v["type"], v["height"], v["round"], None, zero)
        assert got.hex() == v["sign_bytes"], v
    assert comet.validators_hash([]).hex() == up["empty_validator_set_hash"]


def test_vectors_computed_by_cometbft() -> None:
    gen = _load("cometbft_v0.38_generated.json")
    for h in gen["headers"]:
        assert comet.Header.from_json(h["header"]).hash().hex() == h["hash"]
    for vs in gen["validator_sets"]:
        ours = ValidatorSet.new((bytes.fromhex(v["pub_key"]), v["power"])
                                for v in vs["validators"])
        # the same order as CometBFT's (power, then address), so the same hash
        assert [v.pub_key.hex() for v in ours.validators] == vs["order"]
        assert validators_hash(COMETBFT, ours).hex() == vs["hash"]
    for v in gen["votes"]:
        bid = None if v["block_id"] is None else comet.BlockID.from_json(v["block_id"])
        got = comet.vote_sign_bytes(v["chain_id"], v["type"], v["height"], v["round"], bid,
                                    comet.parse_time(v["time"]))
        assert got.hex() == v["sign_bytes"], v


def test_times_keep_their_nanoseconds() -> None:
    assert comet.parse_time("1970-01-01T00:00:01.5Z") == (1, 500_000_000)
    assert comet.parse_time("2026-12-03T18:49:42.89021759Z")[1] == 890_217_590
    for bad in ("2026-12-03T18:49:42+01:00", "2026-12-03T18:49:42.1234567891Z",
                "2026-12-03T18:49:42.1x3Z"):
        with pytest.raises(ValueError):
            comet.parse_time(bad)


def _recorded() -> tuple[dict[str, Any], str, ValidatorSet]:
    rec = _load("cometbft_v0.38_block.json")
    vals = validators_from_json([{"pub_key": v["pub_key"]["value"], "power": v["voting_power"]}
                                 for v in rec["validators"]["validators"]])
    return rec, rec["chain_id"], vals


def test_a_block_signed_by_real_cometbft_validators_verifies() -> None:
    rec, chain_id, vals = _recorded()
    assert engine_of({"node_info": {"version": rec["node_version"]}}) == COMETBFT
    assert engine_of({"node_info": {"version": "0.38.0+communs"}}) == OURS
    block = signed_block(COMETBFT, rec["commit"]["signed_header"], chain_id)
    assert block.hash == block.commit_block_hash
    assert validators_hash(COMETBFT, vals) == block.validators_hash
    verify_commit(block, vals)
    genesis = ValidatorSet.new((base64.b64decode(v["pub_key"]), v["power"])
                               for v in rec["genesis_validators"])
    assert genesis.hash() == vals.hash()  # the set our genesis names is the one that signed
    # read with our engine's hashing, the same block does not verify
    assert signed_block(OURS, rec["commit"]["signed_header"], chain_id).hash != block.hash
    assert validators_hash(OURS, vals) != block.validators_hash


@pytest.mark.parametrize("change", ["app_hash", "time", "signature", "round", "chain",
                                    "absent"])
def test_a_recorded_block_altered_does_not_verify(change: str) -> None:
    rec, chain_id, vals = _recorded()
    signed = copy.deepcopy(rec["commit"]["signed_header"])
    sig = signed["commit"]["signatures"][0]
    if change == "app_hash":
        signed["header"]["app_hash"] = "00" * 32
    elif change == "time":
        assert signed["header"]["time"] == "2026-12-03T18:49:42.381428689Z"
        signed["header"]["time"] = "2026-12-03T18:49:42.381428688Z"  # one nanosecond
    elif change == "signature":
        raw = bytearray(base64.b64decode(sig["signature"]))
        raw[0] ^= 0x80
        sig["signature"] = base64.b64encode(bytes(raw)).decode()
    elif change == "round":
        signed["commit"]["round"] = 1
    elif change == "chain":
        chain_id += "x"
    elif change == "absent":  # two of four signatures left: 20 of 40 power
        for s in signed["commit"]["signatures"][:2]:
            s.update(block_id_flag=1, validator_address="", signature=None,
                     timestamp="0001-01-01T00:00:00Z")
    block = signed_block(COMETBFT, signed, chain_id)
    if change in ("app_hash", "time"):
        assert block.hash != block.commit_block_hash
        return
    with pytest.raises(InvalidError):
        verify_commit(block, vals)
