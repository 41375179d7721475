"""The compute-job store on SQLAlchemy (SQLite or PostgreSQL).

The job is kept whole as JSON in `document`; the columns beside it serve lookups (by state
for the run loop, by agreement for run counts) and the compare-and-set on `version`.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from connector.compute.model import ComputeJob, JobState, Resources, Role
from connector.storage.database import Database
from connector.storage.metadata import metadata

compute_jobs = sa.Table(
    "compute_jobs",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("agreement_id", sa.String(512), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("document", sa.Text(), nullable=False),
    sa.Index("ix_compute_jobs_state_role_created", "state", "role", "created_at"),
    sa.Index("ix_compute_jobs_agreement", "agreement_id", "role"),
)

_TIMES = ("created_at", "updated_at", "started_at", "finished_at")


def _document(job: ComputeJob) -> str:
    body: dict[str, Any] = asdict(job)
    body["role"], body["state"] = job.role.value, job.state.value
    for key in _TIMES:
        body[key] = body[key].isoformat() if body[key] is not None else None
    return json.dumps(body, ensure_ascii=False)


def _job(text: str) -> ComputeJob:
    body = json.loads(text)
    for key in _TIMES:
        body[key] = datetime.fromisoformat(body[key]) if body[key] is not None else None
    body["role"], body["state"] = Role(body["role"]), JobState(body["state"])
    body["resources"] = Resources(**body["resources"])
    return ComputeJob(**body)


def _values(job: ComputeJob) -> dict[str, Any]:
    return {"id": job.id, "role": job.role.value, "state": job.state.value,
            "agreement_id": job.agreement_id, "created_at": job.created_at.astimezone(UTC),
            "version": job.version, "document": _document(job)}


class SqlComputeStore:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def create(self, job: ComputeJob) -> bool:
        try:
            async with self._engine.begin() as connection:
                await connection.execute(compute_jobs.insert().values(**_values(job)))
        except IntegrityError:
            return False
        return True

    async def get(self, job_id: str) -> ComputeJob | None:
        query = sa.select(compute_jobs.c.document).where(compute_jobs.c.id == job_id)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return _job(row.document) if row else None

    async def save(self, job: ComputeJob) -> bool:
        values = _values(job)
        del values["id"], values["created_at"]
        query = (compute_jobs.update()
                 .where(compute_jobs.c.id == job.id, compute_jobs.c.version == job.version - 1)
                 .values(**values))
        async with self._engine.begin() as connection:
            return (await connection.execute(query)).rowcount == 1

    async def list(self, role: Role | None = None, state: JobState | None = None,
                   limit: int = 100, offset: int = 0) -> list[ComputeJob]:
        query = sa.select(compute_jobs.c.document)
        if role is not None:
            query = query.where(compute_jobs.c.role == role.value)
        if state is not None:
            query = query.where(compute_jobs.c.state == state.value)
        query = query.order_by(compute_jobs.c.created_at.desc(), compute_jobs.c.id.desc())
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query.limit(limit).offset(offset))).all()
        return [_job(row.document) for row in rows]

    async def runs(self, agreement_id: str, role: Role = Role.PROVIDER) -> int:
        query = sa.select(sa.func.count()).select_from(compute_jobs).where(
            compute_jobs.c.agreement_id == agreement_id, compute_jobs.c.role == role.value)
        async with self._engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def claim(self, now: datetime) -> ComputeJob | None:
        t = compute_jobs.c
        oldest = (sa.select(t.document).where(t.state == JobState.QUEUED.value, t.role == Role.PROVIDER.value)
                  .order_by(t.created_at, t.id).limit(3))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(oldest)).all()
        for row in rows:
            job = _job(row.document)
            taken = replace(job, state=JobState.RUNNING, started_at=now, updated_at=now, version=job.version + 1)
            if await self.save(taken):  # the compare-and-set: of two claimers, one wins
                return taken
        return None

    async def in_state(self, state: JobState, role: Role = Role.PROVIDER) -> builtins.list[ComputeJob]:
        query = sa.select(compute_jobs.c.document).where(
            compute_jobs.c.state == state.value, compute_jobs.c.role == role.value)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_job(row.document) for row in rows]
