"""From what the launcher saw to a job's status and its one-sentence reason.

The reason goes to the consumer (in the job's status and its receipt) while the log stays
with the provider, so it comes from a fixed vocabulary: a limit reached (which one), an exit
code, a signal, an output rule broken, a SPARQL runner's refusal, the sandbox's own failure.
Never the job's words, nor a name it chose: a job could put the dataset in them. What the
operator needs beyond that (the entry at fault, the sandbox's error) are notes for the log.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from connector.compute.executor import Limits, Status
from connector.compute.sandbox.sparql import REASONS as SPARQL_REASONS

MEMORY_EXIT = 86  # the job's boot code exits with this after a MemoryError
# fork() failing with EAGAIN is how RLIMIT_NPROC shows
_FORK_REFUSED = "BlockingIOError: [Errno 11] Resource temporarily unavailable"


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
    refused: str | None = None  # the output rule broken, one sentence naming nothing of the job's
    refused_at: str | None = None  # the output entry at fault: a name the job chose

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
            refused_at=report.get("refused_at"),
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
    """The job's status and its reason, a sentence of the fixed vocabulary."""
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
        return "failed", "the sandbox could not prepare or finish the job"
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
    if f.exit_code and _FORK_REFUSED in log:
        # It ended the job. The whole log is searched: a fork bomb's processes interleave and
        # are cut off mid-line. (A job printing it only picks another sentence of the list.)
        return "killed", f"the job hit its limit of {limits.processes} processes"
    if sparql and f.exit_code in SPARQL_REASONS:
        return "failed", SPARQL_REASONS[f.exit_code]  # the runner's detail is on the log
    if f.exit_code != 0:
        return "failed", f"the job exited with code {f.exit_code}"  # its last words: on the log
    if f.refused:
        return "failed", f"{f.refused}; nothing was returned"
    return "succeeded", "the job succeeded"


def notes(f: Facts) -> list[str]:
    """What the provider's log needs beyond the reason: the words the reason may not carry."""
    found = []
    if f.setup_error:
        found.append(f"the sandbox could not prepare or finish the job: {f.setup_error}")
    if f.refused and f.refused_at:
        found.append(f"{f.refused}: {f.refused_at}")
    return found
