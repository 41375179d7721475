"""Consensus at scale in the simulator: 100 validators, rounds and messages per height, with
4 validators measured in the same run as the baseline (ratios, not absolute times).

    python bench/bench_ledger_sim.py [--validators 100] [--heights 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.sim import byzantine as byz  # noqa: E402
from ledger.sim import checkers  # noqa: E402
from ledger.sim.world import Faults, World  # noqa: E402


def measure(n: int, heights: int, silent: int = 0) -> dict[str, float]:
    w = World(n, 1, byzantine={i: byz.SILENT for i in range(silent)},
              faults=Faults(delay=(5, 50)), tx_interval=20, relay_fanout=2)
    w.run(1)
    m0, t0, wall = w.messages, w.time, time.perf_counter()
    target = heights + 1
    ok = w.run_until_height(target, 600_000)
    assert ok, f"{n} validators did not reach height {target}"
    assert checkers.agreement(w) == [] and checkers.validity(w) == []
    node = w.honest()[0]
    rounds = [node.blocks.commit(h).round + 1 for h in range(2, target + 1)]  # type: ignore[union-attr]
    done = target - 1
    return {"n": n, "rounds_per_height": sum(rounds) / len(rounds), "max_rounds": max(rounds),
            "messages_per_height": (w.messages - m0) / done,
            "sim_ms_per_height": (w.time - t0) / done,
            "wall_s_per_height": (time.perf_counter() - wall) / done}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--validators", type=int, default=100)
    ap.add_argument("--heights", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 heights instead of --heights")
    args = ap.parse_args()
    if args.quick:
        args.heights = 2
    base = measure(4, args.heights)
    rows = [base, measure(args.validators, args.heights),
            measure(args.validators, max(2, args.heights // 2),
                    silent=(args.validators - 1) // 3)]
    labels = ["4 validators (baseline)", f"{args.validators} validators",
              f"{args.validators} validators, {(args.validators - 1) // 3} silent"]
    print(f"{'':34} {'rounds/h':>9} {'max':>4} {'msgs/h':>9} {'x base':>7} {'sim ms/h':>9}")
    for label, r in zip(labels, rows, strict=True):
        print(f"{label:34} {r['rounds_per_height']:9.2f} {r['max_rounds']:4d} "
              f"{r['messages_per_height']:9.0f} {r['messages_per_height'] / base['messages_per_height']:7.0f} "
              f"{r['sim_ms_per_height']:9.0f}")
    print(f"messages per height per validator pair at {args.validators}: "
          f"{rows[1]['messages_per_height'] / args.validators ** 2:.2f} "
          f"(4 validators: {base['messages_per_height'] / 16:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
