"""The compute-job store contract and its in-memory implementation.

Compare-and-set on `version` makes every transition safe against a racing writer (the run
loop and an operator approving, two loops claiming the same job): the loser changes nothing.
"""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from connector.compute.model import ComputeJob, JobState, Role


class ComputeStore(Protocol):
    async def create(self, job: ComputeJob) -> bool:
        """Store a new job; False (no change) if its id is taken."""

    async def get(self, job_id: str) -> ComputeJob | None: ...

    async def save(self, job: ComputeJob) -> bool:
        """Compare-and-set: store it only if the stored version is `job.version - 1`."""

    async def list(self, role: Role | None = None, state: JobState | None = None,
                   limit: int = 100, offset: int = 0) -> list[ComputeJob]:
        """Newest first."""

    async def runs(self, agreement_id: str, role: Role = Role.PROVIDER) -> int:
        """How many jobs were accepted under that agreement (every stored job is a run)."""

    async def claim(self, now: datetime) -> ComputeJob | None:
        """The oldest QUEUED provider job, now RUNNING (started_at = now); None if none."""

    async def in_state(self, state: JobState, role: Role = Role.PROVIDER) -> builtins.list[ComputeJob]: ...


class InMemoryComputeStore:
    """For tests and tools: each method runs without awaiting, so it is atomic on one loop."""

    def __init__(self) -> None:
        self._jobs: dict[str, ComputeJob] = {}

    async def create(self, job: ComputeJob) -> bool:
        if job.id in self._jobs:
            return False
        self._jobs[job.id] = job
        return True

    async def get(self, job_id: str) -> ComputeJob | None:
        return self._jobs.get(job_id)

    async def save(self, job: ComputeJob) -> bool:
        stored = self._jobs.get(job.id)
        if stored is None or stored.version != job.version - 1:
            return False
        self._jobs[job.id] = job
        return True

    async def list(self, role: Role | None = None, state: JobState | None = None,
                   limit: int = 100, offset: int = 0) -> list[ComputeJob]:
        found = [j for j in self._jobs.values()
                 if (role is None or j.role is role) and (state is None or j.state is state)]
        found.sort(key=lambda j: (j.created_at, j.id), reverse=True)
        return found[offset:offset + limit]

    async def runs(self, agreement_id: str, role: Role = Role.PROVIDER) -> int:
        return sum(1 for j in self._jobs.values() if j.agreement_id == agreement_id and j.role is role)

    async def claim(self, now: datetime) -> ComputeJob | None:
        queued = sorted((j for j in self._jobs.values()
                         if j.role is Role.PROVIDER and j.state is JobState.QUEUED),
                        key=lambda j: (j.created_at, j.id))
        if not queued:
            return None
        job = queued[0]
        taken = replace(job, state=JobState.RUNNING, started_at=now, updated_at=now, version=job.version + 1)
        self._jobs[job.id] = taken
        return taken

    async def in_state(self, state: JobState, role: Role = Role.PROVIDER) -> builtins.list[ComputeJob]:
        return [j for j in self._jobs.values() if j.state is state and j.role is role]
