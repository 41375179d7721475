"""Run every benchmark in this folder (`make bench`), one process each, and summarize."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    # names pick benchmarks; options (--quick...) go to each of them
    only = {arg for arg in sys.argv[1:] if not arg.startswith("-")}
    options = [arg for arg in sys.argv[1:] if arg.startswith("-")]
    failed = []
    for script in scripts:
        if only and script.stem not in only:
            continue
        print(f"\n=== {script.stem} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *options], cwd=HERE.parent)
        print(f"--- {script.stem}: exit {code} in {time.perf_counter() - started:.1f} s", flush=True)
        if code:
            failed.append(script.stem)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
