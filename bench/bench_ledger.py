"""Ledger throughput and commit latency: 4 validator processes of the ledger application on
this machine, signed bank transfers (one `bank/send` each, Ed25519, ~230 bytes) offered at a
fixed rate through the RPC, from accounts funded at genesis (`ledger init --fund`).

Reports sustained committed tx/s and the p50/p99 latency from submission to the block that
holds the transaction (targets: >= 1000 tx/s, p50 <= 1 s, p99 <= 3 s), and, as the baseline
measured in the same run, how fast one process executes the same transactions without
consensus (CheckTx + FinalizeBlock + Commit, the state on SQLite), so the ratio says what
consensus and the network cost.

Each run is made twice by default, on a fresh chain: alone, then with a competing CPU-bound
process (`--cpu-hog`) started for the load window, and reports for each the max gap between
consecutive commits (block header times; target: no gap over 3 s even with the hog) and how
many transactions the nodes refused as busy.

    python bench/bench_ledger.py [--rate 1200] [--seconds 20] [--cpu-hog off|on|both]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.abci import RequestFinalizeBlock, RequestInitChain  # noqa: E402
from ledger.app import client  # noqa: E402
from ledger.app.app import LedgerApp  # noqa: E402
from ledger.app.store import VersionedStore  # noqa: E402
from ledger.cli import main as cli  # noqa: E402
from ledger.crypto import PrivateKey  # noqa: E402
from ledger.errors import LedgerError  # noqa: E402
from ledger.mempool import tx_hash  # noqa: E402
from ledger.rpc import RpcClient  # noqa: E402

N = 4
ACCOUNTS = 2400  # senders; account a always submits through node a % N, in sequence order
FUNDS = "1000com"


def accounts(tag: str) -> list[PrivateKey]:
    return [PrivateKey.from_secret(f"bench-{tag}-{i}".encode()) for i in range(ACCOUNTS)]


def make_txs(keys: list[PrivateKey], chain_id: str, count: int) -> list[tuple[int, bytes]]:
    """The load, as (node index, signed transaction): round-robin over the accounts, each
    sending 1 ucom to the next one, its sequence rising by one per round."""
    return [(i % ACCOUNTS % N, client.send(keys[i % ACCOUNTS], chain_id, i // ACCOUNTS,
                                          keys[(i + 1) % ACCOUNTS].address, 1))
            for i in range(count)]


def baseline(count: int) -> float:
    """tx/s of CheckTx + FinalizeBlock + Commit in one process (state on SQLite), blocks of
    500, on the same kind of transactions."""
    keys = accounts("baseline")
    txs = [t for _, t in make_txs(keys, "bench", count)]
    with tempfile.TemporaryDirectory() as d:
        app = LedgerApp(VersionedStore.open(Path(d) / "app.db", retain=100))
        funds = {client.account_address(k): 10**9 for k in keys}
        app.init_chain(RequestInitChain(0, "bench", (), {"balances": funds}, 1))
        app.commit()
        t0 = time.perf_counter()
        for i in range(0, len(txs), 500):
            chunk = tuple(t for t in txs[i:i + 500] if app.check_tx(t).ok)
            res = app.finalize_block(RequestFinalizeBlock(chunk, b"", i // 500 + 1, 0, b""))
            assert all(r.code == 0 for r in res.tx_results), res.tx_results[0].log
            app.commit()
        return len(txs) / (time.perf_counter() - t0)


def percentile(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))] if s else float("nan")


async def ready(base: int, timeout: float = 30) -> None:
    """All nodes up, connected to each other, and past the first heights."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            sts = []
            for i in range(N):
                async with RpcClient(f"http://127.0.0.1:{base + 2 * i + 1}", timeout=2) as c:
                    sts.append(await c.status())
            if all(s["height"] >= 2 and s["peers"] == N - 1 for s in sts):
                return
        except LedgerError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the validators did not start")


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far (Linux /proc; 0 elsewhere):
    CPU per committed transaction is what a loaded machine changes least."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def start_cpu_hog() -> subprocess.Popen[bytes]:
    """A competing CPU-bound process (another program busy on the same cores)."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


async def load(base: int, txs: list[tuple[int, bytes]], rate: int, seconds: float,
               hog: bool, pids: list[int]) -> dict[str, Any]:
    await ready(base)
    cpu0 = cpu_seconds(pids)
    hog_proc = start_cpu_hog() if hog else None
    clients = [RpcClient(f"http://127.0.0.1:{base + 2 * i + 1}", timeout=30) for i in range(N)]
    sent: dict[bytes, float] = {}
    committed: dict[bytes, float] = {}
    block_times: dict[int, int] = {}  # height -> header time (ms)
    done = asyncio.Event()

    async def watch() -> None:
        seen = 0
        while not done.is_set():
            st = await clients[0].status()
            for h in range(seen + 1, st["height"] + 1):
                b = await clients[0].block(h)
                now = time.perf_counter()
                if b is not None:
                    import base64

                    block_times[h] = int(b["header"]["time"])

                    for t in b["txs"]:
                        committed.setdefault(tx_hash(base64.b64decode(t)), now)
                seen = h
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    # A client waits for answers: at most a few requests in flight per node; what it offers
    # meanwhile waits in its queue, in order (an account's sequence must not skip), and goes in
    # the next request. Latency counts from the moment a transaction was offered.
    in_flight = [0] * N
    queued: list[list[bytes]] = [[] for _ in range(N)]

    async def send(node: int, chunk: list[bytes]) -> list[dict[str, Any]]:
        in_flight[node] += 1
        try:
            return await clients[node].broadcast_txs(chunk)
        finally:
            in_flight[node] -= 1

    batch = max(1, rate // 20)  # 20 offers per second, spread over the nodes
    wall0 = int(time.time() * 1000)
    t0 = time.perf_counter()
    k = 0
    tasks = []
    while time.perf_counter() - t0 < seconds and k < len(txs):
        now = time.perf_counter()
        for node, t in txs[k:k + batch]:
            sent[tx_hash(t)] = now
            queued[node].append(t)
        for node in range(N):
            if queued[node] and in_flight[node] < 8:
                tasks.append(asyncio.create_task(send(node, queued[node][:2000])))
                del queued[node][:2000]
        k += batch
        await asyncio.sleep(max(0.0, t0 + k / rate - time.perf_counter()))
    unsent = sum(len(q) for q in queued)
    for q in queued:
        for t in q:
            del sent[tx_hash(t)]
    submitted_until = time.perf_counter()
    results = await asyncio.gather(*tasks)
    refused = sum(1 for r in results for x in r if not x["ok"])
    reasons = collections.Counter(x.get("log", "")[:70] for r in results for x in r
                                  if not x["ok"])
    # Drain: wait until what was accepted is committed (or 15 s pass).
    deadline = time.perf_counter() + 15
    while len(committed) < len(sent) - refused and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    wall1 = int(time.time() * 1000)
    cpu = cpu_seconds(pids) - cpu0
    done.set()
    await watcher
    if hog_proc is not None:
        hog_proc.kill()
        hog_proc.wait()
    for c in clients:
        await c.close()
    lat = [committed[h] - sent[h] for h in sent if h in committed]
    in_window = sum(1 for h in committed if h in sent and committed[h] <= submitted_until)
    busy = sum(1 for r in results for x in r if x.get("code") == "busy")
    # Gaps between commits over the whole load window, its ends included: a chain that
    # stalls shows one long gap, not none.
    marks = [wall0, *sorted(t for t in block_times.values() if wall0 < t < wall1), wall1]
    gaps = [(b - a) / 1000 for a, b in zip(marks, marks[1:], strict=False)]
    return {"offered_tx_s": len(sent) / (submitted_until - t0), "submitted": len(sent),
            "unsent": unsent, "refused": refused, "reasons": reasons.most_common(3),
            "busy": busy, "committed": len(lat),
            "sustained_tx_s": in_window / (submitted_until - t0),
            "p50_s": percentile(lat, 0.5), "p99_s": percentile(lat, 0.99),
            "max_gap_s": max(gaps), "blocks": len(marks) - 2,
            "cpu_ms_per_tx": 1000 * cpu / max(1, len(lat))}


def run_chain(rate: int, seconds: float, hog: bool) -> dict[str, Any]:
    """A fresh 4-validator chain in its own folder and ports, loaded once."""
    import contextlib
    import io

    from bench_ledger_restart import free_base

    root = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    base = free_base(2 * N)  # checked free, below the ephemeral range (other runs share it)
    keys = accounts(f"{os.getpid()}-{hog}")
    funds = [f"--fund={client.account_address(k)}={FUNDS}" for k in keys]
    chain_id = f"bench-{os.getpid()}"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli(["ledger", "init", "--validators", str(N), "--dir", str(root), "--chain-id",
                    chain_id, "--base-port", str(base), "--json", *funds]) == 0
    txs = make_txs(keys, chain_id, int(rate * seconds) + 1000)
    procs = []
    for i in range(N):
        log = open(root / f"node{i}.log", "wb")  # noqa: SIM115
        procs.append(subprocess.Popen([sys.executable, "-m", "ledger.cli", "ledger", "run",
                                       "--dir", str(root / f"node{i}")], stdout=log,
                                      stderr=log))
    try:
        return asyncio.run(load(base, txs, rate, seconds, hog, [p.pid for p in procs]))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(root, ignore_errors=True)


def report(title: str, r: dict[str, Any], base_rate: float) -> None:
    print(f"[{title}] offered {r['offered_tx_s']:,.0f} tx/s, {r['submitted']} submitted, "
          f"{r['refused']} refused ({r['busy']} busy), {r['committed']} committed, "
          f"{r['unsent']} still queued in the client at the end")
    if r["reasons"]:
        print(f"[{title}] refusals: " + "; ".join(f"{n} x {why}" for why, n in r["reasons"]))
    print(f"[{title}] sustained {r['sustained_tx_s']:,.0f} tx/s "
          f"({r['sustained_tx_s'] / base_rate:.1%} of baseline; target >= 1,000)")
    print(f"[{title}] commit latency p50 {r['p50_s']:.2f} s (target <= 1), "
          f"p99 {r['p99_s']:.2f} s (target <= 3); max commit gap {r['max_gap_s']:.2f} s "
          f"over {r['blocks']} blocks (target <= 3)")
    print(f"[{title}] validators' CPU per committed transaction: {r['cpu_ms_per_tx']:.2f} ms "
          f"(4 processes together; 2 cores allow 2.0 ms at 1,000 tx/s)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=1200)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--quick", action="store_true", help="5 s instead of --seconds")
    ap.add_argument("--cpu-hog", choices=["off", "on", "both"], default="both",
                    help="run with a competing CPU-bound process (default: without, then with)")
    args = ap.parse_args()
    if args.quick:
        args.seconds = 5
    base_rate = baseline(5000)
    print(f"baseline (1 process, no consensus): {base_rate:,.0f} tx/s")
    conditions = {"off": [False], "on": [True], "both": [False, True]}[args.cpu_hog]
    for hog in conditions:
        r = run_chain(args.rate, args.seconds, hog)
        report("with cpu hog" if hog else "alone", r, base_rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
