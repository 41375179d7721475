"""Four real validator processes on loopback: kill, stop, restart, lose quorum, recover.

Every node must end with the same headers and app hashes, and no block may hold evidence
(a restarted validator that double-signed would be convicted by the others).
"""

from __future__ import annotations

import base64
import json
import os
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

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_ledger_restart import free_base  # noqa: E402

from ledger.cli import main as cli
from ledger.consensus.views import from_rfc3339

N = 4


class Net:
    def __init__(self, root: Path, app: str = "kvstore") -> None:
        self.root = root
        self.base = free_base(2 * N)
        assert cli(["ledger", "init", "--app", app, "--validators", str(N), "--dir", str(root),
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
            return int(self.get(i, "/status")["sync_info"]["latest_block_height"])
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


@pytest.fixture
def bank_net(tmp_path: Path):  # type: ignore[no-untyped-def]
    n = Net(tmp_path, app="ledger")
    for i in range(N):
        n.start(i)
    yield n
    n.stop_all()


def _post_tx(net: Net, i: int, tx: bytes) -> dict[str, Any]:
    url = f"http://127.0.0.1:{net.base + 2 * i + 1}/broadcast_tx_sync?tx=0x{tx.hex()}"
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return {"ok": json.loads(r.read())["result"]["code"] == 0}
    except urllib.error.HTTPError as e:  # refusals are JSON-RPC errors (CometBFT's)
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

    got = net.get(1, '/abci_query?path="/key"&data=0x' + b"key7".hex())["response"]
    assert base64.b64decode(got["value"]) == b"value7"
    top = min(net.height(i) for i in range(N))
    for height in range(1, top + 1):
        blocks = [net.get(i, f"/block?height={height}")["block"] for i in range(N)]
        assert len({json.dumps(b["header"], sort_keys=True) for b in blocks}) == 1, height
        assert not blocks[0]["evidence"]["evidence"], f"evidence at height {height}: " \
            "someone double-signed"


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
    times = [from_rfc3339(net.get(0, f"/block?height={h}")["block"]["header"]["time"])
             for h in range(start_height, end_height + 1)]
    gaps = [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) <= 3.0, gaps
    net.wait(list(range(N)), end_height)  # every validator kept up


def _balance(net: Net, i: int, address: str) -> int:
    q = f"/abci_query?path=%22/bank/balance%22&data=0x{address.encode().hex()}"
    value = net.get(i, q)["response"]["value"]
    return int(json.loads(base64.b64decode(value))["balance"])


def _committed(net: Net, i: int, tx: bytes, timeout: float = 20) -> dict[str, Any]:
    from ledger.mempool import tx_hash

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return dict(net.get(i, f"/tx?hash=0x{tx_hash(tx).hex()}"))
        except urllib.error.HTTPError:
            time.sleep(0.2)
    pytest.fail("the transaction was not committed")


def test_bank_transfers_between_nodes_accounts_and_no_validator_change_by_tx(
        bank_net: Net) -> None:
    from ledger.app import client
    from ledger.keys import account_key_path, address_text, load_account_key

    net = bank_net
    keys = [load_account_key(account_key_path(net.root / f"node{i}")) for i in range(N)]
    addrs = [address_text(k) for k in keys]
    net.wait(list(range(N)), 2)
    chain_id = net.get(0, "/status")["node_info"]["network"]
    start = [_balance(net, 0, a) for a in addrs]
    # node0's account pays node1's through node0; node2's pays node3's through node3.
    a = client.send(keys[0], chain_id, 0, addrs[1], 3_000_000)
    b = client.send(keys[2], chain_id, 0, addrs[3], 1_500_000)
    assert _post_tx(net, 0, a)["ok"] and _post_tx(net, 3, b)["ok"]
    ra, rb = _committed(net, 2, a), _committed(net, 1, b)
    assert ra["tx_result"]["code"] == 0 and rb["tx_result"]["code"] == 0
    h = max(int(ra["height"]), int(rb["height"])) + 1
    net.wait(list(range(N)), h)
    for i in range(N):  # every node's state says the same (fees come back as rewards later)
        got = [_balance(net, i, x) for x in addrs]
        assert got[1] >= start[1] + 3_000_000 and got[3] >= start[3] + 1_500_000
        assert got[0] <= start[0] - 3_000_000  # at most the fee came back as a reward
    # A replayed transaction is refused; so is an unsigned validator change.
    assert not _post_tx(net, 1, a)["ok"]
    newcomer = os.urandom(32).hex()
    for i in range(N):
        assert not _post_tx(net, i, f"val:{newcomer}!1000".encode())["ok"]
    def powers() -> set[tuple[str, str]]:
        return {(v["address"], v["voting_power"]) for v in net.get(0, "/validators")["validators"]}

    before = powers()
    net.wait(list(range(N)), h + 3)
    assert powers() == before and len(before) == N
    hashes = {net.get(i, f"/block?height={h + 2}")["block"]["header"]["app_hash"]
              for i in range(N)}
    assert len(hashes) == 1
