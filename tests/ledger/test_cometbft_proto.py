"""The generated ABCI message classes: CometBFT v0.38's wire numbers, and up to date with the
vendored .proto files."""

from __future__ import annotations

import filecmp
import importlib.metadata
from pathlib import Path

import pytest

from ledger.cometbft.pb.tendermint.abci import types_pb2 as abci
from ledger.cometbft.proto import generate

# CometBFT v0.38 `Request.value` / `Response.value` field numbers (REFERENCE.md, section 2.2).
REQUEST = {"echo": 1, "flush": 2, "info": 3, "init_chain": 5, "query": 6, "check_tx": 8,
           "commit": 11, "list_snapshots": 12, "offer_snapshot": 13, "load_snapshot_chunk": 14,
           "apply_snapshot_chunk": 15, "prepare_proposal": 16, "process_proposal": 17,
           "extend_vote": 18, "verify_vote_extension": 19, "finalize_block": 20}
RESPONSE = {"exception": 1, "echo": 2, "flush": 3, "info": 4, "init_chain": 6, "query": 7,
            "check_tx": 9, "commit": 12, "list_snapshots": 13, "offer_snapshot": 14,
            "load_snapshot_chunk": 15, "apply_snapshot_chunk": 16, "prepare_proposal": 17,
            "process_proposal": 18, "extend_vote": 19, "verify_vote_extension": 20,
            "finalize_block": 21}


def test_envelope_field_numbers_are_v038() -> None:
    for cls, expected in ((abci.Request, REQUEST), (abci.Response, RESPONSE)):
        fields = {f.name: f.number for f in cls.DESCRIPTOR.oneofs_by_name["value"].fields}
        assert fields == expected
    assert abci.Request.DESCRIPTOR.full_name == "tendermint.abci.Request"
    assert abci.ResponseCommit.DESCRIPTOR.fields_by_name["retain_height"].number == 3
    assert [f.number for f in abci.ResponseFinalizeBlock.DESCRIPTOR.fields] == [1, 2, 3, 4, 5]


def test_round_trip_of_a_finalize_block_request() -> None:
    req = abci.Request(finalize_block=abci.RequestFinalizeBlock(
        txs=[b"a", b"bc"], height=7, proposer_address=b"\x01" * 20))
    back = abci.Request.FromString(req.SerializeToString())
    assert back.WhichOneof("value") == "finalize_block"
    assert list(back.finalize_block.txs) == [b"a", b"bc"] and back.finalize_block.height == 7


def _grpcio_tools() -> str | None:
    try:
        return importlib.metadata.version("grpcio-tools")
    except importlib.metadata.PackageNotFoundError:
        return None


@pytest.mark.skipif(_grpcio_tools() != generate.GRPCIO_TOOLS,
                    reason=f"grpcio-tools {generate.GRPCIO_TOOLS} (a development dependency) is "
                           f"not what is installed ({_grpcio_tools()}): another protoc writes "
                           f"other version stamps")
def test_generated_modules_match_the_vendored_protos(tmp_path: Path) -> None:
    assert generate.main(tmp_path / "pb") == 0
    committed = generate.OUT
    produced = sorted(p.relative_to(tmp_path / "pb") for p in (tmp_path / "pb").rglob("*.py*"))
    assert produced == sorted(p.relative_to(committed) for p in committed.rglob("*.py*"))
    for rel in produced:
        assert filecmp.cmp(tmp_path / "pb" / rel, committed / rel, shallow=False), rel
