"""A one-validator folder on ephemeral ports, for tests that run a node in process."""

from __future__ import annotations

from pathlib import Path

from ledger.cli import main as cli
from ledger.node import NodeConfig


def single_validator(root: Path, app: str = "kvstore") -> Path:
    assert cli(["ledger", "init", "--app", app, "--validators", "1", "--dir", str(root),
                "--base-port", "0", "--json"]) == 0
    home = root / "node0"
    cfg = NodeConfig.load(home)
    cfg.p2p_port = cfg.rpc_port = 0  # ephemeral ports
    cfg.save(home)
    return home
