"""The compute-job store contract on every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from connector.compute.model import ComputeJob, JobState, Resources, Role, advance, algorithm_hash
from connector.compute.sql import SqlComputeStore
from connector.compute.store import InMemoryComputeStore
from tests.conftest import database_backends, open_test_database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def queued(n: int, agreement: str = "urn:agreement:1", role: Role = Role.PROVIDER, at: datetime = NOW) -> ComputeJob:
    return ComputeJob(
        id=f"job-{n}", role=role, state=JobState.QUEUED, agreement_id=agreement, dataset_iri="urn:dataset:1",
        counterparty_did="did:web:consumer.example", kind="python", algorithm="print('héllo')",
        algorithm_hash=algorithm_hash("print('héllo')"), created_at=at + timedelta(seconds=n), updated_at=at,
    )


@pytest.fixture(params=["memory", *database_backends()])
async def store(request, tmp_path):
    if request.param == "memory":
        yield InMemoryComputeStore()
        return
    async with open_test_database(request.param, tmp_path) as db:
        yield SqlComputeStore(db)


async def test_a_job_round_trips_whole(store):
    job = replace(queued(1), publisher="did:web:pub", manual_release=True, run=3, remote_id="r",
                  resources=Resources(1.25, 123, 2.5, 7), log="line\n", receipt="a.b.c",
                  started_at=NOW, finished_at=NOW)
    assert await store.create(job)
    assert await store.create(job) is False  # the id is taken
    assert await store.get(job.id) == job
    assert await store.get("nope") is None


async def test_save_is_a_compare_and_set_and_races_have_one_winner(store):
    job = queued(1)
    await store.create(job)
    running = advance(job, JobState.RUNNING, NOW)
    failed = advance(job, JobState.FAILED, NOW, reason="x")
    assert sorted(await asyncio.gather(store.save(running), store.save(failed))) == [False, True]
    assert await store.save(running) is False  # the same write again is stale
    assert await store.save(queued(9)) is False  # never stored


async def test_claim_takes_the_oldest_queued_provider_job_once(store):
    for n in (3, 1, 2):
        await store.create(queued(n))
    await store.create(queued(0, role=Role.CONSUMER))  # a consumer's mirror is never run here
    claimed = await asyncio.gather(*(store.claim(NOW) for _ in range(5)))
    ids = [j.id for j in claimed if j is not None]
    assert sorted(ids) == ["job-1", "job-2", "job-3"]  # each once, however many claimers
    first = await store.get("job-1")
    assert first.state is JobState.RUNNING and first.started_at == NOW and first.version == 2
    assert await store.claim(NOW) is None
    assert {j.id for j in await store.in_state(JobState.RUNNING)} == {"job-1", "job-2", "job-3"}


async def test_list_and_run_counts(store):
    for n in range(4):
        await store.create(queued(n, agreement="urn:agreement:1" if n < 3 else "urn:agreement:2"))
    await store.create(queued(9, role=Role.CONSUMER))
    assert await store.runs("urn:agreement:1") == 3
    assert await store.runs("urn:agreement:1", Role.CONSUMER) == 1
    assert await store.runs("urn:agreement:none") == 0
    newest = await store.list(Role.PROVIDER)
    assert [j.id for j in newest] == ["job-3", "job-2", "job-1", "job-0"]
    assert [j.id for j in await store.list(Role.PROVIDER, limit=2, offset=1)] == ["job-2", "job-1"]
    assert [j.id for j in await store.list(Role.CONSUMER)] == ["job-9"]
    await store.save(advance(newest[0], JobState.FAILED, NOW))
    assert [j.id for j in await store.list(state=JobState.FAILED)] == ["job-3"]
