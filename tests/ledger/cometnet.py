"""Real CometBFT validators on loopback, each with our application in its own `communs ledger
app` process: the harness of the CometBFT tests and benchmark.

The binary is the one `.ci/cometbft.sh` installs under build/go/bin; when it is missing and Go
is present it is installed (minutes, once); without Go the tests are skipped."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMETBFT = ROOT / "build" / "go" / "bin" / "cometbft"
sys.path.insert(0, str(ROOT / "bench"))
from bench_ledger_restart import free_base  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from ledger.cli import main as cli  # noqa: E402
from ledger.cometbft.home import EngineConfig, Ports, statesync_toml, write_home  # noqa: E402
from ledger.node import NodeConfig  # noqa: E402


def cometbft_binary() -> Path:
    if COMETBFT.exists():
        return COMETBFT
    if shutil.which("go") is None:
        pytest.skip("Go is not installed, so CometBFT cannot be built (.ci/cometbft.sh "
                    "installs it under build/go/bin)")
    (ROOT / "build").mkdir(exist_ok=True)
    with open(ROOT / "build" / ".cometbft.lock", "w") as lock:  # one install for all workers
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not COMETBFT.exists():
            subprocess.run([str(ROOT / ".ci" / "cometbft.sh")], check=True, timeout=1800)
    return COMETBFT


class CometNet:
    def __init__(self, root: Path, n: int, app: str = "ledger", spare: int = 0) -> None:
        self.binary = cometbft_binary()
        self.root, self.n = root, n
        self.base = free_base(3 * (n + spare))  # spare: ports for nodes joining later
        assert cli(["ledger", "init", "--engine", "cometbft", "--app", app, "--validators",
                    str(n), "--dir", str(root), "--base-port", str(self.base), "--json"]) == 0
        self.apps: dict[int, subprocess.Popen[bytes]] = {}
        self.nodes: dict[int, subprocess.Popen[bytes]] = {}

    def home(self, i: int) -> Path:
        return self.root / f"node{i}"

    def rpc_port(self, i: int) -> int:
        return self.base + 3 * i + 1

    def start(self, i: int) -> None:
        """The app, then (once it listens) its CometBFT."""
        log = open(self.root / f"app{i}.log", "ab")  # noqa: SIM115
        self.apps[i] = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli", "ledger", "app", "--dir", str(self.home(i)),
             "--log-level", "DEBUG"], stdout=log, stderr=log, env={**os.environ})
        engine = EngineConfig.load(self.home(i))
        assert engine is not None
        self._wait_listening(engine.abci)
        log = open(self.root / f"cometbft{i}.log", "ab")  # noqa: SIM115
        self.nodes[i] = subprocess.Popen(
            [str(self.binary), "start", "--home", str(self.home(i) / "cometbft")],
            stdout=log, stderr=log)

    def start_all(self) -> None:
        for i in range(self.n):
            self.start(i)

    def _wait_listening(self, address: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if address.startswith("unix://"):
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(address.removeprefix("unix://"))
                else:
                    port = int(address.rpartition(":")[2])
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"the ABCI app did not listen on {address}")

    def use_unix_socket(self, i: int, path: Path) -> None:
        """Node i's CometBFT reaches its app over a unix socket instead of TCP."""
        engine = EngineConfig.load(self.home(i))
        assert engine is not None
        toml = self.home(i) / "cometbft" / "config" / "config.toml"
        toml.write_text(toml.read_text().replace(engine.abci, f"unix://{path}"))
        engine.abci = f"unix://{path}"
        engine.save(self.home(i))

    def kill(self, i: int) -> None:
        for procs in (self.nodes, self.apps):
            p = procs.pop(i, None)
            if p is not None:
                p.send_signal(signal.SIGKILL)
                p.wait()

    def stop_all(self) -> None:
        for i in list({*self.apps, *self.nodes}):
            self.kill(i)

    def set_snapshots(self, interval: int, keep: int) -> None:
        for i in range(self.n):
            cfg = EngineConfig.load(self.home(i))
            assert cfg is not None
            cfg.snapshot_interval, cfg.snapshot_keep = interval, keep
            cfg.save(self.home(i))

    def add_state_sync_node(self, trust_height: int) -> int:
        """A full node (not a validator) that joins from the validators' snapshots."""
        i = self.n
        node = self.home(i)
        (node / "data").mkdir(parents=True)
        shutil.copy(self.home(0) / "genesis.json", node / "genesis.json")
        ports = Ports(self.base + 3 * i, self.base + 3 * i + 1, self.base + 3 * i + 2)
        NodeConfig(moniker=f"node{i}", p2p_port=ports.p2p, rpc_port=ports.rpc).save(node)
        genesis = json.loads((self.home(0) / "cometbft" / "config" / "genesis.json").read_text())
        peers = [f"{self.get(j, '/status')['node_info']['id']}@127.0.0.1:{self.base + 3 * j}"
                 for j in range(self.n)]
        trust = self.get(0, f"/block?height={trust_height}")["block_id"]["hash"]
        rpcs = [f"127.0.0.1:{self.rpc_port(j)}" for j in range(2)]
        write_home(node, f"node{i}", Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate(),
                   genesis, ports, peers, statesync_toml(rpcs, trust_height, trust))
        self.n += 1
        return i

    def get(self, i: int, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.rpc_port(i)}{path}",
                                    timeout=15) as r:
            return json.loads(r.read())["result"]

    def broadcast_tx_commit(self, i: int, tx: bytes) -> Any:
        return self.get(i, f"/broadcast_tx_commit?tx=0x{tx.hex()}")

    def height(self, i: int) -> int:
        try:
            return int(self.get(i, "/status")["sync_info"]["latest_block_height"])
        except (OSError, urllib.error.URLError, KeyError, ValueError):
            return -1

    def wait(self, nodes: list[int], height: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.height(i) >= height for i in nodes):
                return
            time.sleep(0.2)
        pytest.fail(f"nodes {nodes} did not reach height {height}: "
                    f"{[self.height(i) for i in range(self.n)]}; logs in {self.root}")

    def app_hashes(self, i: int, top: int) -> list[str]:
        """The app hash each block header 1..top of node i carries."""
        out: list[str] = []
        lo = 1
        while lo <= top:
            hi = min(top, lo + 19)
            r = self.get(i, f"/blockchain?minHeight={lo}&maxHeight={hi}")
            metas = sorted(r["block_metas"], key=lambda m: int(m["header"]["height"]))
            out += [m["header"]["app_hash"] for m in metas]
            lo = hi + 1
        return out

    def finalized_heights(self, i: int) -> list[int]:
        """The heights node i's app process executed, from its debug log."""
        out = []
        for line in (self.root / f"app{i}.log").read_text().splitlines():
            if line.startswith("{") and '"finalize_block"' in line:
                out.append(int(json.loads(line)["height"]))
        return out


def tx_result(r: Any) -> tuple[int, str]:
    """(code, log) of a broadcast_tx_commit answer's execution (check failures included)."""
    if int(r["check_tx"].get("code") or 0) != 0:
        return int(r["check_tx"]["code"]), r["check_tx"].get("log", "")
    res = r["tx_result"]
    return int(res.get("code") or 0), res.get("log", "")


def b64(data: str) -> bytes:
    return base64.b64decode(data)
