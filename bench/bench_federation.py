"""`communs federation up` of 4 organizations (4 connectors, 4 validators) until all are ready.

Measured: a first `up` that creates the folders and genesis, then `up` again on the same folder
(what `make run` does after the first time): each connector is ready once it reads its ledger.
Baseline, in the same run: one connector alone, without a ledger (`communs serve` until
/health/ready). Target: up to all ready <= 10 s.

    python bench/bench_federation.py [--quick] [--cpu-hog]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from bench.bench_ledger import start_cpu_hog  # noqa: E402
from bench.bench_ledger_restart import free_base  # noqa: E402
from bench.bench_node_start import start_once  # noqa: E402
from connector.config import load, save  # noqa: E402
from connector.federation.create import LEDGER_OFFSET  # noqa: E402
from connector.ledger.config import LedgerConfig  # noqa: E402

ORGS = 4
TARGET = 10.0


def communs(*argv: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "connector.cli.main", *argv], check=True,
                   capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cpu-hog", action="store_true", help="with a CPU-bound process beside")
    options = parser.parse_args()
    runs = 2 if options.quick else 4
    hog = start_cpu_hog() if options.cpu_hog else None
    try:
        with tempfile.TemporaryDirectory(prefix="communs-bench-") as work:
            folder = str(Path(work) / "federation")
            base = free_base(LEDGER_OFFSET + 2 * ORGS)
            up = ("federation", "up", "--dir", folder, "--detach")
            created = communs(*up, "--orgs", str(ORGS), "--base-port", str(base))
            communs("federation", "down", "--dir", folder)
            again = []
            for _ in range(runs):
                again.append(communs(*up))
                communs("federation", "down", "--dir", folder)
            city = Path(folder) / "city" / "connector"
            save(dataclasses.replace(load(city), ledger=LedgerConfig()))  # alone: no ledger to wait for
            alone = [start_once(city, base, {}) for _ in range(runs)]
    finally:
        if hog is not None:
            hog.kill()
    a, one = statistics.median(again), statistics.median(alone)
    beside = " with a CPU-bound process beside" if hog else ""
    print(f"federation up, {ORGS} organizations{beside}:")
    print(f"  first up (creates folders and genesis): {created:.1f} s")
    print(f"  up again, to all ready: p50 {a:.1f} s (min {min(again):.1f}, max {max(again):.1f});"
          f" target <= {TARGET:.0f} s: {'met' if a <= TARGET else 'MISSED'}")
    print(f"  baseline, one connector alone to ready: p50 {one:.2f} s")
    print(f"  ratio: {a / one:.1f}x one connector for {2 * ORGS} processes")


if __name__ == "__main__":
    main()
