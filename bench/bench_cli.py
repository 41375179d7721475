"""CLI start-up: wall time of `communs` commands, each in a fresh interpreter.

Baseline, in the same run: `python -c pass` (the interpreter alone). The commands are run in
turns, so a burst of load from elsewhere hits them all alike. Target: --help and the
commands that only call the management API under 0.5 s at p50.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodes import init  # noqa: E402

from connector.config import load  # noqa: E402

TARGET = 0.5
CLI = [sys.executable, "-m", "connector.cli.main"]


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the node did not become ready within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    runs = 5 if parser.parse_args().quick else 15
    work = Path(tempfile.mkdtemp(prefix="communs-bench-cli-"))
    folder = init(work / "node", "Bench Org")
    server = subprocess.Popen([*CLI, "serve", "--dir", str(folder), "--log-level", "WARNING"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(load(folder).public_url)
        node = ["--dir", str(folder), "--json"]
        commands = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "communs --help": [*CLI, "--help"],
            "communs --version": [*CLI, "--version"],
            "communs negotiations list (management API)": [*CLI, "negotiations", "list", *node],
            "communs credentials list (management API)": [*CLI, "credentials", "list", *node],
            "communs datasets list": [*CLI, "datasets", "list", *node],
            "communs did show (opens the node's folder)": [*CLI, "did", "show", *node],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(timed(argv))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(times["python -c pass (baseline)"])
    print(f"{runs} runs each, in turns, on {os.cpu_count()} cores; p50 (min-max)")
    for name, spent in times.items():
        p50 = statistics.median(spent)
        verdict = ""
        if "--help" in name or "management API" in name:
            verdict = f"; target <= {TARGET} s: {'met' if p50 <= TARGET else 'MISSED'}"
        print(f"{name}: {p50:.3f} s ({min(spent):.3f}-{max(spent):.3f}), "
              f"{p50 / base:.1f}x the baseline{verdict}")


if __name__ == "__main__":
    main()
