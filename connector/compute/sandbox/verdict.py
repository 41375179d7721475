"""From what the launcher saw to a job's status and its one-sentence reason."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from connector.compute.executor import Limits, Status

MEMORY_EXIT = 86  # the job's boot code exits with this after a MemoryError
SPARQL_REFUSED = 2
_FORK_REFUSED = "BlockingIOError: [Errno 11] Resource temporarily unavailable"  # the SPARQL runner exits with this, its reason on the last log line


@dataclass
class Facts:
    backstop: bool = False  # we had to kill the launcher ourselves
    cancelled: bool = False  # the caller asked us to stop the job
    missing: bool = False  # the launcher ended without a report
    setup_error: str | None = None
    stopped: str | None = None  # the launcher stopped the whole job: "wall", "cpu", "memory"
    exit_code: int | None = None
    signal: int | None = None
    cpu: float = 0.0
    rss: int = 0
    output_full: bool = False
    output_bytes: int = 0
    refused: str | None = None

    @classmethod
    def from_report(cls, report: dict | None, returncode: int | None) -> Facts:
        if report is None:
            return cls(missing=True, exit_code=returncode)
        return cls(
            setup_error=report.get("setup_error"),
            stopped=report.get("stopped"),
            exit_code=report.get("exit_code"),
            signal=report.get("signal"),
            cpu=float(report.get("cpu", 0.0)),
            rss=int(report.get("rss", 0)),
            output_full=bool(report.get("output_full")),
            output_bytes=int(report.get("output_bytes", 0)),
            refused=report.get("refused"),
        )

    @property
    def clean_exit(self) -> bool:
        ended = not (
            self.backstop or self.cancelled or self.missing or self.setup_error or self.stopped
        )
        return ended and self.exit_code == 0 and not self.output_full


def size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"


def _signame(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def verdict(f: Facts, limits: Limits, log: str, *, sparql: bool = False) -> tuple[Status, str]:
    wall = f"the job ran past its wall-clock limit of {limits.wall_seconds:g} s"
    cpu = f"the job used up its {limits.cpu_seconds} s of CPU time"
    memory = f"the job ran out of its {size(limits.memory_bytes)} of memory"
    if f.cancelled:
        return "killed", "the job was cancelled"
    if f.backstop:
        return "killed", wall
    if f.missing:
        return "failed", "the sandbox ended without reporting on the job"
    if f.setup_error:
        return "failed", f"the sandbox could not prepare the job ({f.setup_error})"
    if f.stopped:
        cancelled = "the job was cancelled"
        return "killed", {"cpu": cpu, "memory": memory, "cancel": cancelled}.get(f.stopped, wall)
    if f.signal == signal.SIGXCPU or (f.signal == signal.SIGKILL and f.cpu >= limits.cpu_seconds):
        return "killed", cpu
    if f.signal == signal.SIGXFSZ:
        return "killed", f"the job wrote a file larger than its limit of {size(limits.file_bytes)}"
    if f.output_full:
        return "killed", f"the job's output went over its cap of {size(limits.output_bytes)}"
    if f.exit_code == MEMORY_EXIT:
        return "killed", memory
    if f.signal is not None:
        return "failed", f"the job was killed by {_signame(f.signal)}"
    lines = log.strip().splitlines()
    last_line = lines[-1].strip()[:300] if lines else ""
    if f.exit_code and _FORK_REFUSED in log:
        # fork() failing with EAGAIN is how RLIMIT_NPROC shows; it ended the job. The whole
        # log is searched: a fork bomb's processes interleave and are cut off mid-line.
        return "killed", f"the job hit its limit of {limits.processes} processes"
    if f.exit_code == SPARQL_REFUSED and sparql and last_line:
        return "failed", last_line  # the runner's own sentence
    if f.exit_code != 0:
        detail = f": {last_line}" if last_line else ""
        return "failed", f"the job exited with code {f.exit_code}{detail}"
    if f.refused:
        return "failed", f"{f.refused}; nothing was returned"
    return "succeeded", "the job succeeded"
