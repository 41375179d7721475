"""A compute job as pure data: its states and the guarded transitions between them.

The provider's job runs QUEUED -> RUNNING -> SUCCEEDED | FAILED | KILLED | REJECTED, or
-> AWAITING_RELEASE -> RELEASED | REJECTED when a person must release the result. The
consumer keeps a mirror of the provider's job (same states) that it refreshes by asking.
Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    AWAITING_RELEASE = "AWAITING_RELEASE"
    SUCCEEDED = "SUCCEEDED"  # the result is available (released automatically)
    RELEASED = "RELEASED"  # the result is available (released by a person)
    FAILED = "FAILED"
    KILLED = "KILLED"  # a limit was hit
    REJECTED = "REJECTED"  # the result may not leave (a person or the policy said no)

    @property
    def final(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING, JobState.AWAITING_RELEASE)

    @property
    def has_result(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.RELEASED)


class Role(StrEnum):
    PROVIDER = "PROVIDER"  # the job runs here
    CONSUMER = "CONSUMER"  # we asked a provider to run it


# Who may move a job where: the manager (run), the operator (release), the consumer's mirror.
_NEXT: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.FAILED}),
    JobState.RUNNING: frozenset(
        {JobState.SUCCEEDED, JobState.FAILED, JobState.KILLED, JobState.REJECTED, JobState.AWAITING_RELEASE}
    ),
    JobState.AWAITING_RELEASE: frozenset({JobState.RELEASED, JobState.REJECTED}),
}


class TransitionError(ValueError):
    """A job cannot go from its state to the one asked (a value-level refusal)."""


@dataclass(frozen=True)
class Resources:
    cpu_seconds: float = 0.0
    max_rss_bytes: int = 0
    wall_seconds: float = 0.0
    output_bytes: int = 0

    def to_json(self) -> dict[str, float | int]:
        return {"cpuSeconds": round(self.cpu_seconds, 3), "maxRssBytes": self.max_rss_bytes,
                "wallSeconds": round(self.wall_seconds, 3), "outputBytes": self.output_bytes}


@dataclass(frozen=True)
class ComputeJob:
    id: str  # ours; for a consumer's mirror, the provider's id is `remote_id`
    role: Role
    state: JobState
    agreement_id: str
    dataset_iri: str
    counterparty_did: str  # the consumer (PROVIDER role) or the provider (CONSUMER role)
    kind: str  # python | sparql
    algorithm: str  # the script or query text
    algorithm_hash: str  # "sha256:<hex>" of its UTF-8 bytes
    created_at: datetime
    updated_at: datetime
    publisher: str | None = None  # the DID that signed the algorithm, when verified
    manual_release: bool = False
    run: int = 1  # its ordinal among the runs under its agreement (what odrl:count reads)
    remote_id: str | None = None
    provider_address: str | None = None  # CONSUMER: the provider's DSP base
    publisher_signature: str | None = None  # CONSUMER: sent with the algorithm, kept for a resend
    reason: str | None = None
    exit_code: int | None = None
    log: str = ""
    resources: Resources = Resources()
    dataset_hash: str | None = None
    result_hash: str | None = None  # "sha256:<hex>" of the result archive
    receipt: str | None = None  # the provider's JWS
    started_at: datetime | None = None
    finished_at: datetime | None = None
    version: int = 1


def algorithm_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def advance(job: ComputeJob, state: JobState, now: datetime, **changes: object) -> ComputeJob:
    """The job in STATE (with CHANGES), one version later; TransitionError if not allowed."""
    if state not in _NEXT.get(job.state, frozenset()):
        raise TransitionError(f"a {job.state.value} job cannot become {state.value}")
    return replace(job, state=state, updated_at=now, version=job.version + 1, **changes)  # type: ignore[arg-type]


def mirror(job: ComputeJob, state: JobState, now: datetime, **changes: object) -> ComputeJob:
    """The consumer's copy after the provider reported STATE: forward only, never back."""
    if job.state.final or state == job.state and not changes:
        return job
    return replace(job, state=state, updated_at=now, version=job.version + 1, **changes)  # type: ignore[arg-type]
