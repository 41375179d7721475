"""The credential store contract, on every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connector.credentials.model import Format, Role, StoredCredential
from connector.credentials.sql import SqlCredentialStore
from connector.credentials.store import InMemoryCredentialStore
from tests.conftest import database_backends, open_test_database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def credential(n: int, role: Role = Role.HELD, types=("VerifiableCredential", "MembershipCredential")):
    return StoredCredential(
        id=f"urn:uuid:cred-{n}",
        role=role,
        format=Format.JWT if n % 2 else Format.LDP,
        issuer="did:web:issuer.example",
        subject=f"did:web:subject{n}.example",
        types=tuple(types),
        issued_at=NOW,
        expires_at=NOW + timedelta(days=n) if n else None,
        document=json.dumps({"id": f"urn:uuid:cred-{n}", "note": "héllo"}),
    )


@pytest.fixture(params=["memory", *database_backends()])
async def store(request, tmp_path):
    if request.param == "memory":
        yield InMemoryCredentialStore()
        return
    async with open_test_database(request.param, tmp_path) as db:
        yield SqlCredentialStore(db)


async def test_add_then_get_round_trips_every_field(store):
    original = credential(3)
    assert await store.add(original) is True
    assert await store.get(original.id, Role.HELD) == original


async def test_adding_twice_is_refused_and_keeps_the_first(store):
    first = credential(1)
    assert await store.add(first)
    changed = StoredCredential(**{**first.__dict__, "document": "{}"})
    assert await store.add(changed) is False
    assert (await store.get(first.id, Role.HELD)).document == first.document


async def test_the_same_id_may_be_held_and_issued(store):
    assert await store.add(credential(1, Role.HELD))
    assert await store.add(credential(1, Role.ISSUED))
    assert (await store.get("urn:uuid:cred-1", Role.ISSUED)).role is Role.ISSUED


async def test_list_filters_by_role_and_type_newest_first(store):
    await store.add(credential(1))
    await store.add(credential(2, types=("VerifiableCredential", "LegalPerson")))
    await store.add(credential(3, Role.ISSUED))
    held = await store.list(role=Role.HELD)
    assert [c.id for c in held] == ["urn:uuid:cred-2", "urn:uuid:cred-1"]
    members = await store.list(type_="MembershipCredential")
    assert {c.id for c in members} == {"urn:uuid:cred-1", "urn:uuid:cred-3"}
    assert await store.list(type_="Membership") == []  # whole type names only
    assert [c.id for c in await store.list(limit=1, offset=1)] == ["urn:uuid:cred-2"]


async def test_delete_removes_only_that_credential(store):
    await store.add(credential(1))
    await store.add(credential(2))
    assert await store.delete("urn:uuid:cred-1", Role.HELD) is True
    assert await store.delete("urn:uuid:cred-1", Role.HELD) is False
    assert await store.get("urn:uuid:cred-1", Role.HELD) is None
    assert await store.get("urn:uuid:cred-2", Role.HELD) is not None


async def test_expiry_is_kept_as_an_aware_utc_time(store):
    await store.add(credential(5))
    loaded = await store.get("urn:uuid:cred-5", Role.HELD)
    assert loaded.expires_at == NOW + timedelta(days=5)
    assert loaded.expired(NOW + timedelta(days=6)) and not loaded.expired(NOW)
