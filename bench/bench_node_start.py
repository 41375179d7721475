"""Node start time: `communs serve` until /health/ready answers 200.

Warm: the shapes cache that `communs init` filled. Baseline, in the same run: the same node
with an empty shapes cache (the Gaia-X shapes parsed from Turtle). Target: warm p50 <= 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def communs(*argv: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "connector.cli.main", *argv], check=True, env=env, capture_output=True)


def start_once(folder: Path, port: int, env: dict[str, str]) -> float:
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "connector.cli.main", "serve", "--dir", str(folder), "--log-level", "WARNING"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < 60:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the node did not become ready within 60 s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    runs = 3 if parser.parse_args().quick else 7
    work = Path(tempfile.mkdtemp(prefix="communs-bench-"))
    try:
        warm_cache, cold_cache = work / "cache-warm", work / "cache-cold"
        env = {**os.environ, "COMMUNS_CACHE": str(warm_cache)}
        port = free_port()
        folder = work / "node"
        communs("init", "--dir", str(folder), "--name", "Bench Org", "--url", f"http://127.0.0.1:{port}",
                "--country", "DE-BE", "--registration-number", "vatID:DE123456788",
                "--management-port", str(free_port()), env=env)
        warm = [start_once(folder, port, env) for _ in range(runs)]
        cold = []
        for _ in range(runs):
            shutil.rmtree(cold_cache, ignore_errors=True)
            cold.append(start_once(folder, port, {**os.environ, "COMMUNS_CACHE": str(cold_cache)}))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    w, c = statistics.median(warm), statistics.median(cold)
    print(f"node start, warm shapes cache: p50 {w:.2f} s (min {min(warm):.2f}, max {max(warm):.2f}); target <= 1.5 s: {'met' if w <= 1.5 else 'MISSED'}")
    print(f"node start, cold shapes cache (baseline): p50 {c:.2f} s")
    print(f"ratio cold/warm: {c / w:.1f}x faster with the cache")


if __name__ == "__main__":
    main()
