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


def alive(pid: int, folder: Path | None = None) -> bool:
    """Whether PID runs (not a zombie) and, given FOLDER, is the child serving that folder:
    a process id reused by an unrelated program is not ours."""
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rpartition(")")[2].split()[0] == "Z":
            return False
        if folder is not None:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            return str(folder).encode() in argv
        return True
    except (OSError, IndexError):
        return False


class Registry:
    """run.json: the supervisor's pid and each child's, by name."""

    def __init__(self, federation: Federation) -> None:
        self.path = federation.folder / RUN_FILE
        try:
            data = json.loads(self.path.read_text())
            self.supervisor: int | None = data.get("supervisor")
            self.pids: dict[str, int] = dict(data.get("children", {}))
        except (OSError, ValueError, AttributeError):
            self.supervisor, self.pids = None, {}

    def save(self) -> None:
        data = {"supervisor": self.supervisor, "children": self.pids}
        self.path.write_text(json.dumps(data, indent=2) + "\n")

    def running(self, child: Child) -> int | None:
        pid = self.pids.get(child.name)
        return pid if pid is not None and alive(pid, child.folder) else None

    def supervised(self) -> int | None:
        """The pid of a live `federation up` other than this process."""
        pid = self.supervisor
        ok = pid is not None and pid != os.getpid() and alive(pid)
        return pid if ok else None


def start(child: Child) -> int:
    with open(child.log, "ab") as log:
        process = subprocess.Popen(child.argv, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=child.folder)
    return process.pid


def stop(pids: list[int]) -> None:
    """SIGTERM to each, then SIGKILL to those still running after the grace period."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        _reap()
        if not any(alive(pid) for pid in pids):
            return
        time.sleep(0.05)
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    _reap()


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def _reap() -> None:
    """Collect our own exited children, so that they do not linger as zombies."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
