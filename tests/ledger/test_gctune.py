"""The collector's pace in a ledger process: full collections rare, start-up objects frozen."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from ledger import gctune


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()


def test_tune_delays_full_collections_and_freezes_startup_objects() -> None:
    out = _python("""
        import gc
        from ledger import gctune
        before = gc.get_threshold()
        gctune.tune()
        print(before, gc.get_threshold(), gc.get_freeze_count() > 1000)
    """)
    assert out == f"(700, 10, 10) (700, 10, {gctune.FULL}) True"


def test_ledger_run_tunes_the_collector_before_the_node_starts(tmp_path) -> None:
    # The real `ledger run` entry point, with the node's coroutine replaced by one that reports
    # the collector's pace as the node would meet it.
    out = _python(f"""
        import gc
        import ledger.cli.chain as chain
        async def report(home):
            print(gc.get_threshold()[2], gc.get_freeze_count() > 1000)
        chain.run_node = report
        from ledger.cli import main
        main(["ledger", "run", "--dir", {str(tmp_path)!r}])
    """)
    assert out == f"{gctune.FULL} True"
