"""Validator restart time against chain length, with the ledger application (state in
`data/app.db`).

A chain of 4 validators is fast-forwarded (`ledger.fastforward`, a bank transfer every 5th
block) to 1,000, 10,000 and 100,000 blocks (`--quick`: 1,000 and 10,000); at each length one
validator is measured:

  process   `communs ledger run` until /status answers with the stored height (median of runs,
            the process killed -9 between them, as in a crash)
  in proc   `Node(home)` + `start()` until ready; `evid` times, alone, the old scan of past
            blocks for committed evidence (what `Replica.start` did before `evidence_since`)
  replay    the baseline, what every restart did before the app kept its state: the same
            chain replayed from block 1 into a fresh (in-memory) application; measured up to
            --replay-max blocks and extrapolated linearly beyond (marked "~")

Target: restart time does not grow with chain length.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from http.client import HTTPException
from pathlib import Path

from ledger import fastforward
from ledger.app import client
from ledger.app.app import LedgerApp
from ledger.app.store import VersionedStore
from ledger.cli import main as cli
from ledger.consensus import execution as ex
from ledger.crypto import PrivateKey
from ledger.node import Node, SqlBlocks, SqlStates, load_genesis

VALIDATORS = 4
ACCOUNTS = 4


def free_base(count: int = 2 * VALIDATORS) -> int:
    """A base port with `count` free ports after it, below the kernel's ephemeral range: a port
    picked there (bind to 0) can be taken as the source port of some outgoing connection
    before the validator binds it."""
    low = _ephemeral_low()
    while True:
        base = random.randrange(10_000, low - count)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


class Chain:
    """Validator folders on the ledger application whose chain grows by fast-forward."""

    def __init__(self, root: Path, base_port: int) -> None:
        self.root, self.base = root, base_port
        with contextlib.redirect_stdout(io.StringIO()):  # init's summary of the folders
            assert cli(["ledger", "init", "--validators", str(VALIDATORS), "--dir", str(root),
                        "--base-port", str(base_port), "--json"]) == 0
        self.homes = [root / f"node{i}" for i in range(VALIDATORS)]
        self.keys = [PrivateKey.from_secret(f"restart-{i}".encode()) for i in range(ACCOUNTS)]
        self.sequences = [0] * ACCOUNTS
        self.height = 0
        self._backdated = False
        doc = json.loads((self.homes[0] / "genesis.json").read_text())
        self.chain_id: str = doc["chain_id"]
        doc["app_state"] = {"balances": {client.account_address(k): 10**15
                                         for k in self.keys}}
        for h in self.homes:
            (h / "genesis.json").write_text(json.dumps(doc, indent=2) + "\n")
            cfg = json.loads((h / "ledger.json").read_text())
            cfg["application"] = "ledger"
            (h / "ledger.json").write_text(json.dumps(cfg, indent=2) + "\n")

    def _txs(self, height: int) -> Sequence[bytes]:
        if height % 5:
            return ()
        i = height // 5 % ACCOUNTS
        to = client.account_address(self.keys[(i + 1) % ACCOUNTS])
        tx = client.send(self.keys[i], self.chain_id, self.sequences[i], to, 1000 + height)
        self.sequences[i] += 1
        return (tx,)

    def backdate(self, blocks: int) -> None:
        """Start the chain `blocks` seconds (plus a minute) ago, so that its fast-forwarded
        tip is not in the future (blocks are 1 s apart). Only before the first block."""
        assert self.height == 0 and not self._backdated
        self._backdated = True
        for h in self.homes:
            doc = json.loads((h / "genesis.json").read_text())
            doc["genesis_time"] = int(time.time() * 1000) - (blocks + 60) * 1000
            (h / "genesis.json").write_text(json.dumps(doc, indent=2) + "\n")

    def grow_to(self, height: int) -> float:
        """Fast-forward to `height` and give every folder the stores; the seconds it took."""
        started = time.perf_counter()
        # Like fastforward's own stores: no fsync per block (closing writes everything out).
        app = LedgerApp(VersionedStore.open(self.homes[0] / "data" / "app.db", durable=False))
        try:
            self.height = fastforward.grow(self.homes, app, height - self.height, self._txs)
        finally:
            app.store.close()  # type: ignore[attr-defined]
        fastforward.copy_stores(self.homes)
        return time.perf_counter() - started

    def rpc_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.base + 2 * i + 1}"


def rpc_height(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/status", timeout=2) as r:
            return int(json.loads(r.read())["result"]["sync_info"]["latest_block_height"])
    except (OSError, HTTPException, KeyError, ValueError):  # not up yet, or not ours
        return -1


def start_process(home: Path) -> subprocess.Popen[bytes]:
    log = open(home.parent / f"{home.name}.log", "ab")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "ledger.cli", "ledger", "run", "--dir",
                             str(home), "--log-level", "WARNING"], stdout=log, stderr=log,
                            env={**os.environ})


def wait_ready(url: str, height: int, started: float, timeout: float = 120) -> float:
    """Seconds from `started` until the RPC at `url` answers with a height >= `height`."""
    while time.perf_counter() - started < timeout:
        if rpc_height(url) >= height:
            return time.perf_counter() - started
        time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer height {height} within {timeout} s")


def process_restart(chain: Chain, runs: int) -> float:
    """Median seconds from `ledger run` to /status at the stored height (node 0 alone)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = start_process(chain.homes[0])
        try:
            times.append(wait_ready(chain.rpc_url(0), chain.height, started))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    return statistics.median(times)


def in_process_restart(home: Path) -> tuple[float, float]:
    """(seconds to construct and start a Node until ready, seconds of its evidence scan)."""
    async def go() -> tuple[float, float]:
        started = time.perf_counter()
        node = Node(home)
        await node.start()
        ready = time.perf_counter() - started
        await node.stop()
        node.app.store.close()  # type: ignore[attr-defined]
        return ready, evidence_scan(home)

    return asyncio.run(go())


def evidence_scan(home: Path) -> float:
    """What `Replica.start` spends reading past blocks for their evidence, timed alone."""
    blocks = SqlBlocks(home / "data" / "blocks.db")
    age = load_genesis(home).params.max_evidence_age
    started = time.perf_counter()
    for h in range(max(1, blocks.height() - age), blocks.height() + 1):
        blocks.block(h)
    took = time.perf_counter() - started
    blocks.db.close()
    return took


def replay(home: Path) -> float:
    """The baseline: the whole chain replayed from block 1 into a fresh application, as the
    replica's handshake does for an application that remembers nothing."""
    genesis = load_genesis(home)
    blocks, states = SqlBlocks(home / "data" / "blocks.db"), SqlStates(home / "data" / "state.db")
    state = states.load()
    assert state is not None
    app = LedgerApp(VersionedStore.open(None))
    started = time.perf_counter()
    ex.genesis_state(genesis, app)
    for h in range(1, state.last_block_height + 1):
        b = blocks.block(h)
        assert b is not None
        app.finalize_block(ex.finalize_request(b, states.validators(h - 1)))
        app.commit()
    took = time.perf_counter() - started
    assert app.info().last_block_app_hash == state.app_hash, "replay gave another app hash"
    blocks.db.close()
    states.db.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 blocks only")
    parser.add_argument("--runs", type=int, default=3, help="process starts per length")
    parser.add_argument("--replay-max", type=int, default=10_000,
                        help="longest chain replayed for the baseline (beyond: extrapolated)")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    root = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    rows = []
    try:
        chain = Chain(root, free_base())
        chain.backdate(sizes[-1])
        per_block = 0.0
        for size in sizes:
            grown = chain.grow_to(size)
            proc = process_restart(chain, args.runs)
            inproc, evid = in_process_restart(chain.homes[0])
            if size <= args.replay_max:
                rep, exact = replay(chain.homes[1]), True
                per_block = rep / size
            else:
                rep, exact = per_block * size, False
            rows.append((size, grown, proc, inproc, evid, rep, exact))
            print(f"  {size} blocks: grown in {grown:.1f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'blocks':>8} {'process s':>10} {'in proc s':>10} {'evid s':>7} "
          f"{'replay s':>9} {'replay/process':>15} {'process/first':>14}")
    first = rows[0][2]
    for size, _, proc, inproc, evid, rep, exact in rows:
        mark = "" if exact else "~"
        print(f"{size:>8} {proc:>10.2f} {inproc:>10.2f} {evid:>7.2f} {mark + f'{rep:.1f}':>9} "
              f"{mark + f'{rep / proc:.1f}x':>15} {proc / first:>13.2f}x")
    growth = rows[-1][3] - rows[0][3]
    print(f"in-process restart grows by {growth:+.2f} s from {rows[0][0]} to {rows[-1][0]} "
          f"blocks (evidence scan {rows[0][4]:.2f} -> {rows[-1][4]:.2f} s)")


if __name__ == "__main__":
    main()
