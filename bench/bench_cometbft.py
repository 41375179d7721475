"""Our ledger application under CometBFT v0.38 (over the ABCI socket) against our own engine.

1. ABCI round trip: a CometBFT-style client sends CheckTx (a signed transfer) + Flush to
   `communs ledger app` in another process and waits for the answer, over TCP and over a unix
   socket; Echo + Flush shows the transport alone. Baseline in the same run: CheckTx called in
   process.
2. Throughput: signed bank transfers offered at a fixed rate to 4 validators on this machine,
   through each engine's RPC (CometBFT: JSON-RPC batches of 10 `broadcast_tx_sync`, up to 32
   in flight per node; ours: its `/broadcast_txs` batch, up to 8 in flight, as bench_ledger),
   first 4 CometBFT validators each with its own app process, then 4 of ours, same app.
   Reports committed tx/s and the p50/p99 latency from submission to commit, and the ratio
   CometBFT / ours (the issue's target: the socket path costs at most 20% and reaches 1,000
   tx/s).

    python bench/bench_cometbft.py [--rate 1200] [--seconds 20] [--quick]

Needs the cometbft binary from .ci/cometbft.sh (build/go/bin); without it, says so and stops.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ledger import accounts, cpu_seconds, make_txs, percentile  # noqa: E402
from bench_ledger_restart import free_base  # noqa: E402

from ledger.app import client  # noqa: E402
from ledger.cli import main as cli  # noqa: E402
from ledger.cometbft.client import AbciClient  # noqa: E402
from ledger.cometbft.pb.tendermint.abci import types_pb2 as pb  # noqa: E402
from ledger.errors import LedgerError  # noqa: E402
from ledger.mempool import tx_hash  # noqa: E402
from ledger.rpc import RpcClient  # noqa: E402

COMETBFT = ROOT / "build" / "go" / "bin" / "cometbft"
N = 4
FUNDS = "1000com"


# ------------------------------------------------------------------- round trip


def _init_app(root: Path, keys: list[Any], chain_id: str) -> Path:
    funds = [f"--fund={client.account_address(k)}={FUNDS}" for k in keys]
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli(["ledger", "init", "--engine", "cometbft", "--validators", "1", "--dir",
                    str(root), "--chain-id", chain_id, "--base-port",
                    str(free_base(3)), "--json", *funds]) == 0
    return root / "node0"


async def _round_trips(listen: str, home: Path, txs: list[bytes]) -> tuple[float, float]:
    """(µs per Echo round trip, µs per CheckTx round trip) against a `ledger app` process."""
    log = open(home.parent / "app.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "ledger.cli", "ledger", "app", "--dir",
                             str(home), "--listen", listen], stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                c = await AbciClient.connect(listen)
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            raise SystemExit(f"the ABCI app did not listen on {listen}")
        genesis = json.loads((home / "cometbft" / "config" / "genesis.json").read_text())
        await c.call(pb.Request(init_chain=pb.RequestInitChain(  # the app's own SQLite store
            chain_id=genesis["chain_id"], initial_height=1,
            app_state_bytes=json.dumps(genesis["app_state"]).encode())))
        echo = pb.Request(echo=pb.RequestEcho(message="x"))
        t0 = time.perf_counter()
        for _ in range(len(txs)):
            await c.call(echo)
        t_echo = (time.perf_counter() - t0) / len(txs)
        t0 = time.perf_counter()
        for tx in txs:
            r = await c.call(pb.Request(check_tx=pb.RequestCheckTx(tx=tx)))
            assert r.check_tx.code == 0, r.check_tx.log
        t_check = (time.perf_counter() - t0) / len(txs)
        await c.close()
        return t_echo * 1e6, t_check * 1e6
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def _in_process_check(home: Path, txs: list[bytes]) -> float:
    from ledger.abci import RequestInitChain
    from ledger.app.app import LedgerApp
    from ledger.app.store import VersionedStore

    genesis = json.loads((home / "cometbft" / "config" / "genesis.json").read_text())
    app = LedgerApp(VersionedStore.open(home / "data" / "baseline.db"))  # SQLite, as the app
    app.init_chain(RequestInitChain(0, genesis["chain_id"], (), genesis["app_state"], 1))
    t0 = time.perf_counter()
    for tx in txs:
        assert app.check_tx(tx).ok
    return (time.perf_counter() - t0) / len(txs) * 1e6


def round_trip(count: int) -> None:
    keys = accounts("rtt")[:200]
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for transport in ("tcp", "unix", "in process"):
            root = Path(d) / transport.replace(" ", "")
            home = _init_app(root, keys, "rtt")
            # distinct signed transfers (a fresh signature each: no cache helps any path)
            txs = [client.send(keys[i % len(keys)], "rtt", i // len(keys),
                               keys[(i + 1) % len(keys)].address, 1) for i in range(count)]
            if transport == "in process":
                out[transport] = (0.0, _in_process_check(home, txs))
                continue
            listen = (f"tcp://127.0.0.1:{free_base(1)}" if transport == "tcp"
                      else f"unix://{root}/app.sock")
            out[transport] = asyncio.run(_round_trips(listen, home, txs))
    base = out["in process"][1]
    print(f"CheckTx in process (baseline): {base:.0f} µs")
    for t in ("tcp", "unix"):
        echo, check = out[t]
        print(f"ABCI over {t}: Echo+Flush round trip {echo:.0f} µs; CheckTx+Flush round trip "
              f"{check:.0f} µs ({check / base:.2f}x in process; transport {check - base:.0f} µs)")


# ------------------------------------------------------------------- throughput


async def _ready(urls: list[str], timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            hs = []
            for u in urls:
                async with RpcClient(u, timeout=2) as c:
                    hs.append((await c.status())["height"])
            if min(hs) >= 2:
                return
        except (LedgerError, KeyError):
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the validators did not start")


async def _load(engine: str, urls: list[str], txs: list[tuple[int, bytes]], rate: int,
                seconds: float, apps: list[int], engines: list[int]) -> dict[str, Any]:
    await _ready(urls)
    cpu0 = cpu_seconds(apps), cpu_seconds(engines)
    clients = [RpcClient(u, timeout=60) for u in urls]
    sent: dict[bytes, float] = {}
    committed: dict[bytes, float] = {}
    done = asyncio.Event()

    async def watch() -> None:
        seen = (await clients[0].status())["height"]
        while not done.is_set():
            top = (await clients[0].status())["height"]
            for h in range(seen + 1, top + 1):
                b = await clients[0].block(h)
                now = time.perf_counter()
                for t in (b or {}).get("txs") or []:
                    committed.setdefault(tx_hash(base64.b64decode(t)), now)
                seen = h
            await asyncio.sleep(0.05)

    reasons: collections.Counter[str] = collections.Counter()

    async def send(node: int, chunk: list[bytes]) -> list[bool]:
        in_flight[node] += 1
        try:
            if engine == "communs":  # our engine's batch endpoint (as bench_ledger loads it)
                res = await clients[node].broadcast_txs(chunk)
                for r in res:
                    if not r["ok"]:
                        reasons[str(r.get("log"))[:80]] += 1
                return [bool(r["ok"]) for r in res]
            calls = [("broadcast_tx_sync", {"tx": base64.b64encode(t).decode()})
                     for t in chunk]
            try:
                out = await clients[node].batch(calls)
            except LedgerError as e:
                reasons[str(e)[:80]] += len(chunk)
                return [False] * len(chunk)
            for r in out:
                if int(r.get("code") or 0) != 0:
                    reasons[str(r.get("log"))[:80]] += 1
            return [int(r.get("code") or 0) == 0 for r in out]
        finally:
            in_flight[node] -= 1

    # A client waits for answers: a few requests in flight per node, the rest of what it
    # offers queued in order (an account's sequence must not skip); latency counts from the
    # offer. CometBFT serves JSON-RPC batches of at most 10 requests (max_request_batch_size).
    per_request = 2000 if engine == "communs" else 10
    # broadcast_tx_sync answers after CheckTx: more requests in flight keep CometBFT's mempool
    # fed (ours refuses more than 32 per client)
    most = 8 if engine == "communs" else 32
    in_flight = [0] * len(urls)
    queued: list[list[bytes]] = [[] for _ in urls]
    watcher = asyncio.create_task(watch())
    batch = max(1, rate // 20)
    t0 = time.perf_counter()
    k, tasks = 0, []
    while time.perf_counter() - t0 < seconds and k < len(txs):
        now = time.perf_counter()
        for node, t in txs[k:k + batch]:
            sent[tx_hash(t)] = now
            queued[node].append(t)
        for node in range(len(urls)):
            while queued[node] and in_flight[node] < most:
                tasks.append(asyncio.create_task(send(node, queued[node][:per_request])))
                del queued[node][:per_request]
                await asyncio.sleep(0)  # let it count itself in flight
        k += batch
        await asyncio.sleep(max(0.0, t0 + k / rate - time.perf_counter()))
    unsent = sum(len(q) for q in queued)
    for q in queued:  # never offered: not counted
        for t in q:
            del sent[tx_hash(t)]
    until = time.perf_counter()
    results = await asyncio.gather(*tasks)
    refused = sum(1 for r in results for ok in r if not ok)
    deadline = time.perf_counter() + 20
    while len(committed) < len(sent) - refused and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    done.set()
    cpu = cpu_seconds(apps) - cpu0[0], cpu_seconds(engines) - cpu0[1]
    await watcher
    for c in clients:
        await c.close()
    lat = [committed[h] - sent[h] for h in sent if h in committed]
    # committed over the time from the first offer to the last commit (a chain that falls
    # behind the offered rate shows a longer span, not a clipped count)
    span = max([committed[h] for h in sent if h in committed], default=until) - t0
    return {"offered": len(sent) / (until - t0), "refused": refused,
            "reasons": reasons.most_common(3), "committed": len(lat), "unsent": unsent,
            "tx_s": len(lat) / span, "p50": percentile(lat, 0.5),
            "p99": percentile(lat, 0.99),
            "cpu_ms": tuple(1000 * c / max(1, len(lat)) for c in cpu)}


def chain(engine: str, rate: int, seconds: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-{engine}-"))
    step = 3 if engine == "cometbft" else 2
    base = free_base(step * N)
    keys = accounts(f"{engine}-{os.getpid()}")
    chain_id = f"bench-{engine}"
    funds = [f"--fund={client.account_address(k)}={FUNDS}" for k in keys]
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli(["ledger", "init", "--engine", engine, "--validators", str(N), "--dir",
                    str(root), "--chain-id", chain_id, "--base-port", str(base), "--json",
                    *funds]) == 0
    txs = make_txs(keys, chain_id, int(rate * seconds) + 1000)
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(name: str, argv: list[str]) -> None:
        log = open(root / f"{name}.log", "wb")  # noqa: SIM115
        procs.append(subprocess.Popen(argv, stdout=log, stderr=log))

    for i in range(N):
        home = root / f"node{i}"
        if engine == "cometbft":
            spawn(f"app{i}", [sys.executable, "-m", "ledger.cli", "ledger", "app", "--dir",
                              str(home)])
            time.sleep(0.5)  # the app listens before CometBFT dials it
            spawn(f"cometbft{i}", [str(COMETBFT), "start", "--home", str(home / "cometbft")])
        else:
            spawn(f"node{i}", [sys.executable, "-m", "ledger.cli", "ledger", "run", "--dir",
                               str(home)])
    urls = [f"http://127.0.0.1:{base + step * i + 1}" for i in range(N)]
    try:
        # CPU per committed transaction: the application's processes (ours: the whole
        # node) and CometBFT's, apart
        pids = [p.pid for p in procs]
        apps, engines = (pids[0::2], pids[1::2]) if engine == "cometbft" else (pids, [])
        return asyncio.run(_load(engine, urls, txs, rate, seconds, apps, engines))
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=1200)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--quick", action="store_true", help="8 s of load, fewer round trips")
    args = ap.parse_args()
    if not COMETBFT.exists():
        print(f"skipped: no cometbft binary at {COMETBFT} (run .ci/cometbft.sh; needs Go)")
        return 0
    if args.quick:
        args.seconds = 8
    round_trip(500 if args.quick else 3000)
    got = {e: chain(e, args.rate, args.seconds) for e in ("cometbft", "communs")}
    for e, r in got.items():
        print(f"[{e}] offered {r['offered']:,.0f} tx/s, committed {r['tx_s']:,.0f} tx/s "
              f"({r['committed']} txs, {r['refused']} refused, {r['unsent']} left in the client's "
              f"queue), latency p50 {r['p50']:.2f} s "
              f"p99 {r['p99']:.2f} s")
        if r["reasons"]:
            print(f"[{e}] refusals: " + "; ".join(f"{n} x {why}" for why, n in r["reasons"]))
        app_ms, engine_ms = r["cpu_ms"]
        print(f"[{e}] CPU per committed transaction, 4 validators together: "
              + (f"{app_ms:.2f} ms in our application, {engine_ms:.2f} ms in CometBFT"
                 if e == "cometbft" else f"{app_ms:.2f} ms (engine and application)"))
    ratio = got["cometbft"]["tx_s"] / max(got["communs"]["tx_s"], 1e-9)
    print(f"CometBFT / our engine throughput: {ratio:.0%} (target >= 80%, and >= 1,000 tx/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
