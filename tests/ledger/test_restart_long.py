"""A validator on a long chain restarts from its stored application state, not by replaying
the chain: 4 real `ledger run` processes on the ledger application, a chain fast-forwarded to
thousands of blocks with bank transfers in them; one validator is killed -9 and restarted."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_ledger_restart import Chain, free_base, replay, rpc_height, start_process  # noqa: E402


def _balance(url: str, addr: bytes) -> tuple[int, int]:
    """(balance, height answered) from /bank/balance at the node's latest height."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "abci_query",
                       "params": {"path": "/bank/balance", "data": addr.hex()}}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=3) as r:
        res: Any = json.loads(r.read())["result"]["response"]
    assert res["code"] == 0, res
    return json.loads(base64.b64decode(res["value"]))["balance"], int(res["height"])


def _app_hash(url: str, height: int) -> str:
    with urllib.request.urlopen(f"{url}/block?height={height}", timeout=3) as r:
        return str(json.loads(r.read())["result"]["block"]["header"]["app_hash"])


def _wait(chain: Chain, nodes: list[int], height: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(rpc_height(chain.rpc_url(i)) >= height for i in nodes):
            return
        time.sleep(0.1)
    pytest.fail(f"nodes {nodes} did not reach {height}: "
                f"{[rpc_height(chain.rpc_url(i)) for i in range(4)]}")


def _run(tmp_path: Path, blocks: int) -> None:
    chain = Chain(tmp_path, free_base())
    chain.backdate(blocks)
    chain.grow_to(blocks)
    replay_s = replay(chain.homes[1])  # what a restart without the stored state costs
    procs: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for i in range(4):
            procs[i] = start_process(chain.homes[i])
        _wait(chain, [0, 1, 2, 3], blocks + 3)
        procs.pop(3).send_signal(signal.SIGKILL)
        killed_at = rpc_height(chain.rpc_url(0))
        _wait(chain, [0, 1, 2], killed_at + 2)

        started = time.perf_counter()
        procs[3] = start_process(chain.homes[3])
        url3 = chain.rpc_url(3)
        while rpc_height(url3) < blocks:
            assert time.perf_counter() - started < 60, (
                f"the restarted validator never answered (exit code {procs[3].poll()}): "
                + (chain.homes[3].parent / "node3.log").read_text()[-2000:])
            time.sleep(0.01)
        ready_s = time.perf_counter() - started
        # Its application answers at once, at the tip it had (>= the fast-forwarded height).
        addr = chain.keys[1].address
        balance, at = _balance(url3, addr)
        assert at >= blocks
        assert balance != 10**15  # transfers moved it
        # The fast-forwarded history is indexed as a running node indexes it.
        q = urllib.request.quote('"tx.height<=20"')
        with urllib.request.urlopen(f"{url3}/tx_search?query={q}", timeout=3) as r:
            assert json.loads(r.read())["result"]["total_count"] == "4"  # heights 5, 10, 15, 20
        print(f"\n{blocks} blocks: restart ready in {ready_s:.2f} s, full replay {replay_s:.2f} s")
        assert ready_s < 20, f"restart took {ready_s:.1f} s on {blocks} blocks"

        # It rejoins and commits new blocks with the others; everyone agrees.
        top = rpc_height(chain.rpc_url(0))
        _wait(chain, [0, 1, 2, 3], top + 3)
        top = min(rpc_height(chain.rpc_url(i)) for i in range(4))
        for h in range(blocks - 2, top + 1):
            assert len({_app_hash(chain.rpc_url(i), h) for i in range(4)}) == 1, h
        # A balance at a common height is the same on every node (the tip may differ by a block).
        answers = {_balance(chain.rpc_url(i), addr) for i in range(4)}
        by_height: dict[int, set[int]] = {}
        for bal, h in answers:
            by_height.setdefault(h, set()).add(bal)
        assert all(len(v) == 1 for v in by_height.values()), answers
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGKILL)
            p.wait()


def test_restart_on_2000_blocks_resumes_from_stored_state(tmp_path: Path) -> None:
    _run(tmp_path, 2_000)


@pytest.mark.slow
def test_restart_on_10000_blocks_resumes_from_stored_state(tmp_path: Path) -> None:
    _run(tmp_path, 10_000)
