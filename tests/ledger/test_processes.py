"""Four real validator processes on loopback: kill, stop, restart, lose quorum, recover.

Every node must end with the same headers and app hashes, and no block may hold evidence
(a restarted validator that double-signed would be convicted by the others).
"""

from __future__ import annotations

import json
import os
import random
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

from ledger.cli import main as cli

N = 4


def _free_base() -> int:
    for _ in range(50):
        base = random.randrange(20000, 60000, 2)
        try:
            socks = []
            for p in range(base, base + 2 * N):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            for s in socks:
                s.close()
            return base
        except OSError:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


class Net:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = _free_base()
        assert cli(["ledger", "init", "--validators", str(N), "--dir", str(root),
                    "--base-port", str(self.base), "--json"]) == 0
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, i: int) -> None:
        log = open(self.root / f"node{i}.log", "ab")  # noqa: SIM115
        self.procs[i] = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli", "ledger", "run", "--dir",
             str(self.root / f"node{i}")], stdout=log, stderr=log, env={**os.environ})

    def kill(self, i: int) -> None:
        p = self.procs.pop(i)
        p.send_signal(signal.SIGKILL)
        p.wait()

    def get(self, i: int, path: str) -> Any:
        url = f"http://127.0.0.1:{self.base + 2 * i + 1}{path}"
        with urllib.request.urlopen(url, timeout=3) as r:
            return json.loads(r.read())["result"]

    def height(self, i: int) -> int:
        try:
            return int(self.get(i, "/status")["height"])
        except (OSError, urllib.error.URLError, KeyError, ValueError):
            return -1

    def wait(self, nodes: list[int], height: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.height(i) >= height for i in nodes):
                return
            time.sleep(0.2)
        pytest.fail(f"nodes {nodes} did not reach {height}: "
                    f"{[self.height(i) for i in range(N)]}")

    def stop_all(self) -> None:
        for i in list(self.procs):
            self.kill(i)


@pytest.fixture
def net(tmp_path: Path):  # type: ignore[no-untyped-def]
    n = Net(tmp_path)
    for i in range(N):
        n.start(i)
    yield n
    n.stop_all()


def _post_tx(net: Net, i: int, tx: bytes) -> dict[str, Any]:
    req = urllib.request.Request(f"http://127.0.0.1:{net.base + 2 * i + 1}/broadcast_tx",
                                 data=tx, headers={"Content-Type": "application/octet-stream"})
    try:
        with urllib.request.urlopen(req, timeout=3) as r:
            return json.loads(r.read())["result"]  # type: ignore[no-any-return]
    except urllib.error.HTTPError as e:
        return {"ok": False, "status": e.code}


def test_four_validators_survive_kill_stop_restart_and_quorum_loss(net: Net) -> None:
    net.wait(list(range(N)), 3)
    for k in range(20):
        assert _post_tx(net, k % N, f"key{k}=value{k}".encode())["ok"]
    # Invalid transactions and garbage are refused without harm.
    assert not _post_tx(net, 0, b"\xff\xfe")["ok"]
    assert not _post_tx(net, 0, b"no-equals-sign")["ok"]
    with socket.create_connection(("127.0.0.1", net.base)) as s:
        s.sendall(os.urandom(4096))

    # SIGKILL one: the other three keep committing.
    h = max(net.height(i) for i in range(N))
    net.kill(3)
    net.wait([0, 1, 2], h + 5)
    # Restart it: it catches up (block sync + WAL) without double-signing.
    net.start(3)
    h = max(net.height(i) for i in range(3))
    net.wait([0, 1, 2, 3], h + 2)

    # SIGSTOP then SIGCONT.
    net.procs[2].send_signal(signal.SIGSTOP)
    h = max(net.height(i) for i in (0, 1, 3))
    net.wait([0, 1, 3], h + 3)
    net.procs[2].send_signal(signal.SIGCONT)
    net.wait([0, 1, 2, 3], h + 4)

    # Kill two of four: no quorum, the chain halts safely ...
    net.kill(2)
    net.kill(3)
    time.sleep(1.5)
    halted = max(net.height(0), net.height(1))
    time.sleep(4)
    assert max(net.height(0), net.height(1)) <= halted + 1
    # ... and resumes when they return.
    net.start(2)
    net.start(3)
    net.wait([0, 1, 2, 3], halted + 3, timeout=90)

    assert net.get(1, "/query?path=/key&data=" + b"key7".hex())["value_text"] == "value7"
    top = min(net.height(i) for i in range(N))
    for height in range(1, top + 1):
        blocks = [net.get(i, f"/block?height={height}") for i in range(N)]
        assert len({json.dumps(b["header"], sort_keys=True) for b in blocks}) == 1, height
        assert not blocks[0]["evidence"], f"evidence at height {height}: someone double-signed"


def test_chain_keeps_committing_while_a_client_floods_one_node(net: Net) -> None:
    """A client pushes transactions into node 0 as fast as it can: the node answers "busy"
    when its queue is full, and blocks keep coming at a steady pace on every node."""
    import asyncio

    from ledger.crypto import PrivateKey
    from ledger.kvstore import make_signed_tx
    from ledger.rpc import RpcClient

    keys = [PrivateKey.from_secret(f"flood-{i}".encode()) for i in range(8)]
    txs = [make_signed_tx(keys[i % 8], i, f"f{i}=v".encode()) for i in range(16000)]
    net.wait(list(range(N)), 2)
    start_height = net.height(0)

    async def flood() -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        todo = iter(range(0, len(txs), 400))
        deadline = time.monotonic() + 8

        async def sender() -> None:
            async with RpcClient(f"http://127.0.0.1:{net.base + 1}", timeout=30) as c:
                for k in todo:
                    if time.monotonic() > deadline:
                        return
                    answers.extend(await c.broadcast_txs(txs[k:k + 400]))

        await asyncio.gather(*(sender() for _ in range(4)))
        return answers

    answers = asyncio.run(flood())
    end_height = net.height(0)
    assert end_height >= start_height + 5, (start_height, end_height)
    accepted = sum(1 for a in answers if a["ok"])
    assert accepted > 1000
    assert all(a["ok"] or a["code"] == "busy" for a in answers)
    times = [net.get(0, f"/block?height={h}")["header"]["time"]
             for h in range(start_height, end_height + 1)]
    gaps = [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) <= 3.0, gaps
    net.wait(list(range(N)), end_height)  # every validator kept up
