"""The federation's child processes: each organization's connector (`communs serve`) and
validator (`communs ledger run`), each in its own session so that a Ctrl-C reaches only the
supervisor, which then stops them in order. `run.json` keeps their process ids so that
`status` and `down` work from another shell and a second `up` adopts the ones still running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from connector.federation.layout import Federation, Member

RUN_FILE = "run.json"
STOP_GRACE = 10.0  # seconds a child has to finish after SIGTERM


@dataclass(frozen=True)
class Child:
    member: Member
    kind: str  # "connector" or "validator"
    folder: Path

    @property
    def name(self) -> str:
        return f"{self.member.slug} {self.kind}"

    @property
    def argv(self) -> list[str]:
        if self.kind == "connector":
            return [sys.executable, "-m", "connector.cli.main", "serve", "--dir", str(self.folder)]
        return [sys.executable, "-m", "ledger.cli", "ledger", "run", "--dir", str(self.folder)]

    @property
    def log(self) -> Path:
        return self.folder.parent / f"{self.kind}.log"


def children(federation: Federation) -> list[Child]:
    """Validators first: connectors stop first and start after them."""
    return ([Child(m, "validator", federation.validator(m)) for m in federation.members]
            + [Child(m, "connector", federation.connector(m)) for m in federation.members])


Pid = tuple[int, int]  # a process id and its start time: ids are reused, the pair is not


def identify(pid: int) -> Pid | None:
    """PID with its start time (clock ticks after boot), if it runs and is not a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    if fields[0] == "Z":  # exited, not yet collected by its parent
        return None
    return pid, int(fields[19])


def alive(process: Pid) -> bool:
    return identify(process[0]) == process


class Registry:
    """run.json: the supervisor's and each child's process, by name."""

    def __init__(self, federation: Federation) -> None:
        self.path = federation.folder / RUN_FILE
        try:
            data = json.loads(self.path.read_text())
            supervisor = data.get("supervisor")
            self.supervisor: Pid | None = tuple(supervisor) if supervisor else None  # type: ignore[assignment]
            self.pids: dict[str, Pid] = {k: tuple(v) for k, v in data.get("children", {}).items()}  # type: ignore[misc]
        except (OSError, ValueError, AttributeError, TypeError):
            self.supervisor, self.pids = None, {}

    def save(self) -> None:
        data = {"supervisor": self.supervisor, "children": self.pids}
        self.path.write_text(json.dumps(data, indent=2) + "\n")

    def running(self, child: Child) -> Pid | None:
        process = self.pids.get(child.name)
        return process if process is not None and alive(process) else None

    def supervised(self) -> Pid | None:
        """The live `federation up` that supervises, if another process than this one."""
        process = self.supervisor
        ok = process is not None and process[0] != os.getpid() and alive(process)
        return process if ok else None


def start(child: Child) -> Pid:
    with open(child.log, "ab") as log:
        process = subprocess.Popen(child.argv, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=child.folder)
    return identify(process.pid) or (process.pid, -1)


def stop(processes: list[Pid]) -> None:
    """SIGTERM to each, then SIGKILL to those still running after the grace period (each
    still the same process: a pid another program now holds is left alone)."""
    for process in processes:
        _signal(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        _reap(processes)
        if not any(alive(p) for p in processes):
            return
        time.sleep(0.05)
    for process in processes:
        _signal(process, signal.SIGKILL)
    _reap(processes)


def _signal(process: Pid, sig: int) -> None:
    if alive(process):
        try:
            os.kill(process[0], sig)
        except OSError:
            pass


def _reap(processes: list[Pid]) -> None:
    """Collect those of PROCESSES that are our own exited children (not zombies to linger)."""
    for pid, _ in processes:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
