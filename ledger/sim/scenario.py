"""Random but seeded scenarios: one integer decides the network, the faults, the Byzantine
validators and their behaviours. `run_seed` runs one and returns every violated property."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import byzantine as byz
from . import checkers
from .world import Faults, World

HEIGHTS_AFTER_HEAL = 5
LIVENESS_BUDGET = 60_000  # simulated ms after the heal to add HEIGHTS_AFTER_HEAL blocks


@dataclass
class Scenario:
    seed: int
    n: int
    byzantine: dict[int, str]
    faults: Faults
    powers: list[int] | None = None  # None: equal voting power


@dataclass
class Result:
    scenario: Scenario
    violations: list[str]
    heights: list[int]
    max_round_after_heal: int
    messages: int
    stats: dict[str, int] = field(default_factory=dict)


def make(seed: int) -> Scenario:
    rng = random.Random(seed * 7919 + 1)
    n = rng.choice([4, 4, 4, 5, 7])
    f = (n - 1) // 3
    nbyz = rng.randint(0, f)
    order = list(range(n))
    rng.shuffle(order)
    # Some runs weight the validators unequally; the faulty ones then hold less than a third
    # of the power (the bound the algorithm is proved for), whatever their number.
    powers = [rng.randint(1, 30) for _ in range(n)] if rng.random() < 0.4 else None
    chosen: list[int] = []
    for i in order:
        p = (powers or [1] * n)
        if len(chosen) < nbyz and 3 * (sum(p[j] for j in chosen) + p[i]) < sum(p):
            chosen.append(i)
    byzantine = {i: rng.choice(byz.KINDS) for i in chosen}
    honest = [i for i in order if i not in byzantine]
    heal = rng.randint(2000, 8000)
    parts = []
    for _ in range(rng.randint(0, 2)):
        start = rng.randint(0, heal - 500)
        end = rng.randint(start + 200, heal)
        cut = rng.randint(1, n - 1)
        shuffled = list(range(n))
        rng.shuffle(shuffled)
        parts.append((start, end, [set(shuffled[:cut]), set(shuffled[cut:])]))
    crashes: list[tuple[int, int, int | None]] = []
    for i in rng.sample(honest, rng.randint(0, min(2, len(honest)))):
        at = rng.randint(0, heal - 300)
        crashes.append((i, at, rng.randint(at + 1, heal)))
    faults = Faults(drop=rng.choice([0.0, 0.05, 0.1, 0.2]), duplicate=rng.choice([0.0, 0.05]),
                    delay=(1, rng.choice([20, 100, 300])), partitions=parts, crashes=crashes,
                    heal_at=heal)
    return Scenario(seed, n, byzantine, faults, powers)


def run(sc: Scenario) -> Result:
    w = World(sc.n, sc.seed, sc.byzantine, sc.faults, powers=sc.powers)
    w.run(sc.faults.heal_at)
    h_heal = max(w.heights(honest_only=True))
    target = h_heal + HEIGHTS_AFTER_HEAL
    violations = []
    if not w.run_until_height(target, sc.faults.heal_at + LIVENESS_BUDGET):
        violations.append(f"liveness: honest heights {w.heights(True)} short of {target} "
                          f"{LIVENESS_BUDGET} ms after the heal")
    # After the first post-heal block, rounds are bounded: a round fails only when a faulty
    # validator proposes, plus slack.
    settled = checkers.max_round_after(w, h_heal + 2)
    violations += checkers.rounds_bounded(w, h_heal + 2)
    violations += checkers.all_checks(w)
    return Result(sc, violations, w.heights(), settled, w.messages,
                  {"equivocators": len(w.equivocated), "penalties": len(w.penalized)})


def run_seed(seed: int) -> Result:
    return run(make(seed))


def main(argv: list[str] | None = None) -> int:
    """`python -m ledger.sim.scenario START END`: sweep seeds, print failures, exit 1 if any."""
    import sys
    import time

    args = sys.argv[1:] if argv is None else argv
    start, end = int(args[0]), int(args[1])
    t0, failed = time.monotonic(), 0
    for seed in range(start, end):
        r = run_seed(seed)
        if r.violations:
            failed += 1
            print(f"seed {seed}: n={r.scenario.n} byzantine={r.scenario.byzantine}: "
                  + "; ".join(r.violations))
    print(f"{end - start} seeds, {failed} failed, {time.monotonic() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
