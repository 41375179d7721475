"""`make serve-node` (one node alone) after the first run: identity settings given on make's
command line that differ from the node's folder are refused with a hint, instead of silently
serving the old node."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from connector.config import load
from tests.nodes import init_node

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make(*settings: str) -> subprocess.CompletedProcess:
    # -o: take the virtualenv as installed (make would otherwise reinstall it)
    return subprocess.run(["make", "-s", "-C", str(ROOT), "-o", ".venv/bin/.installed", "node",
                           *settings], capture_output=True, text=True, timeout=120)


def test_make_node_refuses_another_identity_for_an_existing_node(tmp_path):
    folder = init_node(tmp_path / "node", name="ACME SAS")  # what the first `make serve-node` did
    before = (folder / "communs.toml").read_text()

    assert make(f"NODE_DIR={folder}").returncode == 0  # no settings: the node as it is
    same = make(f"NODE_DIR={folder}", "NAME=ACME SAS", f"URL={load(folder).public_url}/")
    assert same.returncode == 0, same.stderr

    other = make(f"NODE_DIR={folder}", "NAME=Other Org", "COUNTRY=FR-75")
    assert other.returncode != 0
    assert "NAME=Other Org (it holds ACME SAS)" in other.stderr
    assert "make clean-node" in other.stderr and "NODE_DIR=" in other.stderr
    assert "COUNTRY" not in other.stderr  # the same as the node's: not a difference
    assert (folder / "communs.toml").read_text() == before
