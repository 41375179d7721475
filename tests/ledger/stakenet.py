"""Four real ledger validator processes for the stake and governance tests: each node's folder
made by `communs ledger init` with the federation options given, its validator started and
stopped by process id, and the `communs ledger` commands run against any node in process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ledger import keys
from ledger.cli import main as cli
from tests.ledger.test_processes import N, free_base


class StakeNet:
    def __init__(self, root: Path, *options: str) -> None:
        self.root = root
        self.base = free_base(2 * N)
        assert cli(["ledger", "init", "--validators", str(N), "--dir", str(root),
                    "--base-port", str(self.base), "--json", *options]) == 0
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.accounts = [keys.address_text(keys.load_account_key(self.key(i)))
                         for i in range(N)]

    def home(self, i: int) -> Path:
        return self.root / f"node{i}"

    def key(self, i: int) -> Path:
        return self.home(i) / "account_key.json"

    def start(self, i: int) -> None:
        log = open(self.root / f"node{i}.log", "ab")  # noqa: SIM115
        self.procs[i] = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli", "ledger", "run", "--dir", str(self.home(i))],
            stdout=log, stderr=log, env={**os.environ})

    def stop(self, i: int) -> None:
        p = self.procs.pop(i)
        p.send_signal(signal.SIGKILL)
        p.wait()

    def stop_all(self) -> None:
        for i in list(self.procs):
            self.stop(i)

    def run(self, i: int, *argv: str) -> tuple[int, str, str]:
        """`communs ledger ARGV --dir nodeI` in process: (exit code, stdout, stderr)."""
        o, e = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
            code = cli(["ledger", *argv, "--dir", str(self.home(i))])
        return code, o.getvalue(), e.getvalue().strip()

    def ok(self, i: int, *argv: str) -> Any:
        code, out, err = self.run(i, *argv, "--json")
        assert code == 0, f"{argv}: {err}"
        return json.loads(out)

    def height(self, i: int) -> int:
        code, out, _ = self.run(i, "status", "--json")
        return int(json.loads(out)["height"]) if code == 0 else -1

    def wait(self, nodes: list[int], height: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not all(self.height(i) >= height for i in nodes):
            if time.monotonic() > deadline:
                pytest.fail(f"nodes {nodes} did not reach {height}: "
                            f"{[self.height(i) for i in range(N)]}")
            time.sleep(0.2)

    def until(self, what: str, check: Any, timeout: float = 60, node: int = 0) -> Any:
        """Poll `check()` until it returns something true; fail naming `what` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            got = check()
            if got:
                return got
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not happen within {timeout:g} s (height "
                            f"{self.height(node)})")
            time.sleep(0.2)

    def first_height(self, node: int, argv: tuple[str, ...], holds: Any, low: int,
                     high: int) -> int:
        """The first height in (low, high] whose answer to the query `argv` satisfies
        `holds` (which holds at `high` and from then on)."""
        while high - low > 1:
            mid = (low + high) // 2
            if holds(self.ok(node, *argv, "--height", str(mid))):
                high = mid
            else:
                low = mid
        return high

    def consensus_set(self, height: int) -> set[str]:
        """The validator addresses (hex) of the set that signs block `height`."""
        return {v["address"].lower() for v in self.ok(0, "query", "validators", str(height))}
