"""The used-jti store contract, on every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from connector.auth.replay import ReplayGuard, jti_key
from connector.auth.sql import SqlJtiStore
from connector.auth.store import InMemoryJtiStore
from connector.errors import ConnectorError, Reason
from tests.conftest import database_backends, open_test_database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


@pytest.fixture(params=["memory", *database_backends()])
async def store(request, tmp_path):
    if request.param == "memory":
        yield InMemoryJtiStore()
        return
    async with open_test_database(request.param, tmp_path) as db:
        yield SqlJtiStore(db)


async def test_a_key_is_accepted_once_while_unexpired(store):
    assert await store.record("a", LATER, NOW) is True
    assert await store.record("a", LATER, NOW) is False
    assert await store.record("a", LATER, NOW + timedelta(minutes=4)) is False
    assert await store.record("b", LATER, NOW) is True


async def test_an_expired_entry_is_taken_over(store):
    assert await store.record("a", LATER, NOW)
    assert await store.record("a", LATER + timedelta(minutes=5), LATER) is True
    assert await store.record("a", LATER + timedelta(minutes=5), LATER) is False


async def test_concurrent_records_of_one_key_let_exactly_one_win(store):
    results = await asyncio.gather(*(store.record("same", LATER, NOW) for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]


async def test_prune_forgets_only_expired_entries(store):
    await store.record("old", NOW + timedelta(seconds=1), NOW)
    await store.record("new", LATER, NOW)
    assert await store.prune(NOW + timedelta(seconds=1)) == 1
    assert await store.prune(NOW + timedelta(seconds=1)) == 0
    assert await store.record("new", LATER, NOW) is False  # kept
    assert await store.record("old", LATER, NOW + timedelta(seconds=2)) is True


async def test_the_guard_refuses_a_replay_per_issuer(store):
    guard = ReplayGuard(store)
    await guard.check("did:web:a.example", "jti-1", LATER, NOW)
    await guard.check("did:web:b.example", "jti-1", LATER, NOW)  # another issuer's jti
    with pytest.raises(ConnectorError) as caught:
        await guard.check("did:web:a.example", "jti-1", LATER, NOW + timedelta(seconds=10))
    assert caught.value.reason is Reason.UNAUTHORIZED
    assert jti_key("did:web:a.example", "jti-1") != jti_key("did:web:a.exampl", "ejti-1")


async def test_the_guard_prunes_as_it_goes(store):
    guard = ReplayGuard(store, prune_every=timedelta(minutes=1))
    await guard.check("did:web:a.example", "one", NOW + timedelta(seconds=1), NOW)
    await guard.check("did:web:a.example", "two", LATER, NOW + timedelta(minutes=2))
    assert await store.prune(NOW + timedelta(minutes=2)) == 0  # "one" was pruned by the guard
