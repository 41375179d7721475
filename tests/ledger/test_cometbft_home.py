"""`communs ledger init --engine cometbft`: CometBFT home folders for the same chain and keys."""

from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.cli import main as cli
from ledger.cometbft.home import EngineConfig
from ledger.consensus.views import from_rfc3339
from ledger.crypto import address
from ledger.node import NodeConfig, load_genesis


def test_init_writes_cometbft_homes_beside_ours(tmp_path: Path, capsys: object) -> None:
    assert cli(["ledger", "init", "--engine", "cometbft", "--validators", "3", "--dir",
                str(tmp_path), "--base-port", "40100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert out["engine"] == "cometbft"
    ours = load_genesis(tmp_path / "node0")
    for i, node in enumerate(out["nodes"]):
        home = Path(node["dir"]) / "cometbft"
        cfg = NodeConfig.load(Path(node["dir"]))
        assert (cfg.p2p_port, cfg.rpc_port) == (40100 + 3 * i, 40101 + 3 * i)
        assert node["abci"] == f"tcp://127.0.0.1:{40102 + 3 * i}"
        assert EngineConfig.load(Path(node["dir"])) == EngineConfig(node["abci"], "cometbft", 100)
        toml = tomllib.loads((home / "config" / "config.toml").read_text())
        assert toml["proxy_app"] == node["abci"]
        assert toml["rpc"]["laddr"] == f"tcp://127.0.0.1:{cfg.rpc_port}"
        assert toml["p2p"]["laddr"] == f"tcp://127.0.0.1:{cfg.p2p_port}"
        assert sorted(toml["p2p"]["persistent_peers"].split(",")) == sorted(cfg.peers)
        g = json.loads((home / "config" / "genesis.json").read_text())
        assert g["chain_id"] == ours.chain_id and g["initial_height"] == "1"
        assert from_rfc3339(g["genesis_time"]) == ours.genesis_time
        assert g["app_state"] == ours.app_state
        assert [(base64.b64decode(v["pub_key"]["value"]), int(v["power"]))
                for v in g["validators"]] == list(ours.validators)
        # the validator key is ours, in Go's layout (seed then public key)
        pv = json.loads((home / "config" / "priv_validator_key.json").read_text())
        raw = base64.b64decode(pv["priv_key"]["value"])
        key = Ed25519PrivateKey.from_private_bytes(raw[:32])
        pub = key.public_key().public_bytes_raw()
        assert raw[32:] == pub == base64.b64decode(pv["pub_key"]["value"])
        assert pub == ours.validators[i][0]
        assert pv["address"] == address(pub).hex().upper() == node["validator_address"].upper()
        nk = json.loads((home / "config" / "node_key.json").read_text())
        node_pub = base64.b64decode(nk["priv_key"]["value"])[32:]
        assert address(node_pub).hex() == node["node_id"]
        assert (home / "config" / "priv_validator_key.json").stat().st_mode & 0o777 == 0o600
        state = json.loads((home / "data" / "priv_validator_state.json").read_text())
        assert state == {"height": "0", "round": 0, "step": 0}


def test_ledger_app_refuses_a_bad_address_or_folder(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["ledger", "app", "--listen", "localhost:26658", "--dir", str(tmp_path)]) == 1
    assert "write tcp://HOST:PORT or unix://PATH" in capsys.readouterr().err
    assert cli(["ledger", "app", "--listen", "tcp://127.0.0.1:1", "--dir", str(tmp_path)]) == 1
    assert "is not a ledger node folder" in capsys.readouterr().err
    # whoever reaches an ABCI socket drives the app: loopback unless asked otherwise
    assert cli(["ledger", "app", "--listen", "tcp://0.0.0.0:26658", "--dir", str(tmp_path)]) == 1
    assert "not a loopback address" in capsys.readouterr().err
    assert cli(["ledger", "app", "--listen", "tcp://0.0.0.0:1", "--allow-remote",
                "--dir", str(tmp_path)]) == 1
    assert "is not a ledger node folder" in capsys.readouterr().err
