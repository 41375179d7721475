"""FilePV: double-sign protection survives a crash (state re-read from disk)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.privval import DoubleSignError, FilePV, PrivValError, Step


def _pv(tmp_path: Path) -> FilePV:
    return FilePV(tmp_path / "priv_validator_key.json", tmp_path / "priv_validator_state.json")


def test_key_and_state_files_are_private(tmp_path: Path) -> None:
    pv = _pv(tmp_path)
    for name in ("priv_validator_key.json", "priv_validator_state.json"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    assert _pv(tmp_path).public_key == pv.public_key  # same key after reload


def test_signature_verifies_and_state_is_on_disk_before_return(tmp_path: Path) -> None:
    pv = _pv(tmp_path)
    sig = pv.sign(5, 0, Step.PREVOTE, b"vote-a")
    Ed25519PublicKey.from_public_bytes(pv.public_key).verify(sig, b"vote-a")
    doc = json.loads((tmp_path / "priv_validator_state.json").read_bytes())
    assert (doc["height"], doc["round"], doc["step"]) == (5, 0, 2)
    assert bytes.fromhex(doc["signbytes"]) == b"vote-a"


def test_double_sign_refused_after_crash(tmp_path: Path) -> None:
    pv = _pv(tmp_path)
    sig = pv.sign(7, 1, Step.PRECOMMIT, b"precommit-block-A")
    del pv  # "crash": only the files survive
    pv = _pv(tmp_path)
    # identical request: the same signature (idempotent retry)
    assert pv.sign(7, 1, Step.PRECOMMIT, b"precommit-block-A") == sig
    with pytest.raises(DoubleSignError) as conflict:
        pv.sign(7, 1, Step.PRECOMMIT, b"precommit-block-B")
    assert conflict.value.kind == "conflict"
    for h, r, s in [(7, 1, Step.PREVOTE), (7, 0, Step.PRECOMMIT), (6, 9, Step.PRECOMMIT)]:
        with pytest.raises(DoubleSignError) as regression:
            pv.sign(h, r, s, b"anything")
        assert regression.value.kind == "regression"
    # moving forward is fine: next round, next height
    pv.sign(7, 2, Step.PROPOSE, b"proposal")
    pv.sign(8, 0, Step.PREVOTE, b"vote")
    assert _pv(tmp_path).last_state.hrs() == (8, 0, 2)


def test_step_order_within_a_round(tmp_path: Path) -> None:
    pv = _pv(tmp_path)
    pv.sign(1, 0, Step.PROPOSE, b"p")
    pv.sign(1, 0, Step.PREVOTE, b"v")
    pv.sign(1, 0, Step.PRECOMMIT, b"c")
    with pytest.raises(DoubleSignError):
        pv.sign(1, 0, Step.PROPOSE, b"p")


def test_equivalent_hook_returns_old_signature(tmp_path: Path) -> None:
    # e.g. votes differing only by timestamp (the last 8 bytes here)
    same_but_time = lambda old, new: old[:-8] == new[:-8]  # noqa: E731
    pv = FilePV(tmp_path / "k.json", tmp_path / "s.json", equivalent=same_but_time)
    sig = pv.sign(3, 0, Step.PREVOTE, b"vote-X" + b"\x00" * 8)
    assert pv.sign(3, 0, Step.PREVOTE, b"vote-X" + b"\x01" * 8) == sig
    with pytest.raises(DoubleSignError):
        pv.sign(3, 0, Step.PREVOTE, b"vote-Y" + b"\x01" * 8)


def test_invalid_requests_and_corrupt_files(tmp_path: Path) -> None:
    pv = _pv(tmp_path)
    for h, r, s in [(0, 0, 1), (1, -1, 1), (1, 0, 4), (1, 0, 0)]:
        with pytest.raises(PrivValError):
            pv.sign(h, r, s, b"x")
    (tmp_path / "priv_validator_state.json").write_text("{torn")
    with pytest.raises(PrivValError, match="corrupt"):
        _pv(tmp_path)
    (tmp_path / "bad_key.json").write_text('{"priv_key": "not base64!"}')
    with pytest.raises(PrivValError):
        FilePV(tmp_path / "bad_key.json", tmp_path / "s2.json")
    assert not list(tmp_path.glob(".*"))  # no temp files left behind


def test_real_process_crash_right_after_signing(tmp_path: Path) -> None:
    # A child process signs and dies at once (no cleanup, no flush): the disk must know.
    code = (
        "import os, sys; from ledger.privval import FilePV, Step;"
        f"pv = FilePV({str(tmp_path / 'k.json')!r}, {str(tmp_path / 's.json')!r});"
        "sig = pv.sign(9, 0, Step.PRECOMMIT, b'block-A');"
        "sys.stdout.buffer.write(sig); sys.stdout.flush(); os._exit(0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=30)
    pv = FilePV(tmp_path / "k.json", tmp_path / "s.json")
    assert pv.sign(9, 0, Step.PRECOMMIT, b"block-A") == out.stdout
    with pytest.raises(DoubleSignError):
        pv.sign(9, 0, Step.PRECOMMIT, b"block-B")
