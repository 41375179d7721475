"""CometBFT home folders for validators that `communs ledger init` made: the same chain (chain
id, genesis time, validators, our app state), the same validator keys, CometBFT's file
formats. An operator can thus run a validator under either engine without touching the app's
state. (Never both at once with one key: each engine keeps its own record of what it signed.)

Layout, inside a node folder NODE (our app's folder):
  NODE/cometbft/config/{config.toml,genesis.json,node_key.json,priv_validator_key.json}
  NODE/cometbft/data/priv_validator_state.json
  NODE/cometbft.json    where `communs ledger app` listens, and the CometBFT home"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..consensus.views import rfc3339
from ..crypto import address
from ..errors import LedgerError, Reason
from ..privval import public_bytes, write_file_atomic
from ..types import Genesis

PUB, PRIV = "tendermint/PubKeyEd25519", "tendermint/PrivKeyEd25519"
ENGINE_FILE = "cometbft.json"
SNAPSHOT_INTERVAL = 100  # what `ledger init` writes: new nodes can join by state sync


@dataclass
class EngineConfig:
    """What `communs ledger app` reads from NODE/cometbft.json."""

    abci: str  # tcp://HOST:PORT or unix://PATH, CometBFT's proxy_app
    home: str = "cometbft"  # the CometBFT home, relative to the node folder
    snapshot_interval: int = 0  # a state-sync snapshot every N heights (0: none)
    snapshot_keep: int = 2  # the most recent snapshots kept

    @classmethod
    def load(cls, node: Path) -> EngineConfig | None:
        path = node / ENGINE_FILE
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as e:
            raise LedgerError(f"{path} is malformed: {e}", Reason.CONFIG) from e

    def save(self, node: Path) -> None:
        (node / ENGINE_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")


@dataclass(frozen=True)
class Ports:
    p2p: int
    rpc: int
    abci: int


def genesis_doc(g: Genesis, names: list[str]) -> dict[str, Any]:
    """CometBFT's genesis.json for our genesis (CometBFT's default consensus parameters; our
    app state unchanged, handed to InitChain as JSON)."""
    return {
        "genesis_time": rfc3339(g.genesis_time), "chain_id": g.chain_id,
        "initial_height": str(g.initial_height),
        "validators": [{"address": address(pk).hex().upper(),
                        "pub_key": {"type": PUB, "value": _b64(pk)},
                        "power": str(power), "name": name}
                       for (pk, power), name in zip(g.validators, names, strict=True)],
        "app_hash": "", "app_state": g.app_state if g.app_state is not None else {}}


def key_doc(key: Ed25519PrivateKey) -> dict[str, Any]:
    """priv_validator_key.json: Go's ed25519 private key is the seed followed by the public key."""
    pub = public_bytes(key)
    return {"address": address(pub).hex().upper(), "pub_key": {"type": PUB, "value": _b64(pub)},
            "priv_key": {"type": PRIV, "value": _b64(key.private_bytes_raw() + pub)}}


def statesync_toml(rpc_servers: list[str], trust_height: int, trust_hash: str) -> str:
    """The [statesync] section of a node that joins from snapshots: CometBFT's light client
    checks them against a header it trusts (at least two RPC servers to cross-check)."""
    return "\n".join([
        "[statesync]", "enable = true", f'rpc_servers = "{",".join(rpc_servers)}"',
        f"trust_height = {trust_height}", f'trust_hash = "{trust_hash}"',
        'trust_period = "168h0m0s"', 'discovery_time = "5s"', ""])


def config_toml(moniker: str, ports: Ports, peers: list[str], abci: str) -> str:
    """Only what differs from CometBFT's defaults (it fills in the rest): loopback addresses,
    peers that share one IP, short rounds for loopback validators."""
    return "\n".join([
        f'moniker = "{moniker}"', f'proxy_app = "{abci}"', 'abci = "socket"',
        'db_backend = "goleveldb"', "",
        "[rpc]", f'laddr = "tcp://127.0.0.1:{ports.rpc}"', "",
        "[p2p]", f'laddr = "tcp://127.0.0.1:{ports.p2p}"',
        f'persistent_peers = "{",".join(peers)}"', "addr_book_strict = false",
        "allow_duplicate_ip = true", "",
        "[consensus]", 'timeout_propose = "1s"', 'timeout_prevote = "500ms"',
        'timeout_precommit = "500ms"', 'timeout_commit = "200ms"', "",
        "[tx_index]", 'indexer = "kv"', ""])


def write_home(node: Path, moniker: str, validator_key: Ed25519PrivateKey,
               node_key: Ed25519PrivateKey, genesis: dict[str, Any], ports: Ports,
               peers: list[str], extra_toml: str = "") -> None:
    home = node / "cometbft"
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "data").mkdir(parents=True, exist_ok=True)
    abci = f"tcp://127.0.0.1:{ports.abci}"
    (home / "config" / "config.toml").write_text(
        config_toml(moniker, ports, peers, abci) + ("\n" + extra_toml if extra_toml else ""))
    (home / "config" / "genesis.json").write_text(json.dumps(genesis, indent=2) + "\n")
    write_file_atomic(home / "config" / "priv_validator_key.json",
                      json.dumps(key_doc(validator_key), indent=2).encode())
    write_file_atomic(home / "config" / "node_key.json", json.dumps(
        {"priv_key": {"type": PRIV, "value": _b64(node_key.private_bytes_raw()
                                                  + public_bytes(node_key))}}).encode())
    write_file_atomic(home / "data" / "priv_validator_state.json",
                      json.dumps({"height": "0", "round": 0, "step": 0}).encode())
    EngineConfig(abci, snapshot_interval=SNAPSHOT_INTERVAL).save(node)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def write_node(node: Path, moniker: str, genesis: Genesis, n: int, abci_port: int,
               peers: list[str]) -> str:
    """The CometBFT home of a node folder that `ledger init` just wrote (its validator and node
    keys, its p2p and RPC ports from ledger.json); returns the app's ABCI address."""
    from ..node import NodeConfig, key_path
    from ..privval import load_or_generate_key

    cfg = NodeConfig.load(node)
    names = [f"node{i}" for i in range(n)]
    ports = Ports(cfg.p2p_port, cfg.rpc_port, abci_port)
    write_home(node, moniker, load_or_generate_key(key_path(node)),
               load_or_generate_key(node / "node_key.json"), genesis_doc(genesis, names),
               ports, peers)
    return f"tcp://127.0.0.1:{abci_port}"
