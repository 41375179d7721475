"""The executor interface of compute-to-data: what a job is, how it ends, who runs it.

The protocol code depends only on this module, so that another executor (a cluster, say) can
be added later without touching it. The local sandbox (`connector.compute.sandbox`) is the
default; it depends on this module, never the other way round.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol


@dataclass(frozen=True)
class Limits:
    """What one job may use; CPU time and memory count all its processes together."""

    cpu_seconds: int = 60
    wall_seconds: float = 120.0
    memory_bytes: int = 1 << 30  # each process's address space, and the job's resident total
    processes: int = 32  # processes and threads alive at once
    file_bytes: int = 256 << 20  # largest single file the job may write
    output_bytes: int = 64 << 20  # total size of what leaves
    log_bytes: int = 64 << 10  # stdout+stderr kept
    tmp_bytes: int = 64 << 20  # size of the job's private /tmp
    open_files: int = 256


JobKind = Literal["python", "sparql"]
JOB_KINDS: tuple[JobKind, ...] = ("python", "sparql")

Status = Literal["succeeded", "failed", "killed"]


@dataclass(frozen=True)
class Job:
    kind: JobKind
    algorithm: bytes  # the script, or the SPARQL query text
    input_dir: Path  # the dataset's files, seen read-only by the job
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Outcome:
    status: Status  # killed: a limit was hit or it was cancelled
    # One sentence from a fixed vocabulary, e.g. "the job used up its 60 s of CPU time": the
    # consumer reads it, so it never holds words or names the job chose (they could be data).
    reason: str
    exit_code: int | None
    output_dir: Path  # regular files only, checked and within output_bytes; empty unless succeeded
    # stdout and stderr interleaved, capped at log_bytes (head and tail kept), then the
    # sandbox's own details: for the provider's operator alone, as it may carry the data
    log: str
    cpu_seconds: float  # all the job's processes together
    max_rss_bytes: int  # of its largest process
    wall_seconds: float
    output_bytes: int
    isolated: bool = True  # False when the operator allowed jobs without network isolation


class Executor(Protocol):
    name: str

    def isolation_problem(self) -> str | None:
        """None when jobs run fully isolated, else one sentence saying why not."""
        ...

    async def run(self, job: Job, workdir: Path, *, cancel: asyncio.Event | None = None) -> Outcome:
        """Run the job; workdir is an empty private folder for this job, kept by the caller.

        What the job does never raises: it is in the Outcome. ConnectorError only for a job
        that cannot be run at all (unknown kind, no dataset folder, an algorithm over 16 MiB).
        Setting `cancel` stops the job: it ends as killed, "the job was cancelled". Cancelling
        the call kills the job as well, and the CancelledError goes on.
        """
        ...
