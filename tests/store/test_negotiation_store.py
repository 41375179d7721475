"""The negotiation store contract and its outbox, on every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from connector.negotiation.model import (
    Applied,
    ContractNegotiation,
    Message,
    MessageKind,
    Role,
    State,
    act,
    receive,
    start,
)
from connector.negotiation.sql import SqlNegotiationStore
from connector.negotiation.store import InMemoryNegotiationStore, OutboxMessage
from connector.storage.outbox import backoff
from tests.conftest import database_backends, open_test_database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
OFFER = {"@type": "Offer", "@id": "urn:offer:1", "target": "urn:dataset:1", "note": "héllo"}
AGREEMENT = {"@type": "Agreement", "@id": "urn:agreement:1", "target": "urn:dataset:1"}


def provided(
    n: int, at: datetime = NOW, did: str = "did:web:consumer.example"
) -> ContractNegotiation:
    opening = Message(
        MessageKind.CONTRACT_REQUEST,
        consumer_pid=f"urn:c:{n}",
        offer=OFFER,
        callback_address="https://c/cb",
    )
    outcome = receive(None, Role.PROVIDER, opening, did, now=at, new_id=f"urn:p:{n}")
    assert isinstance(outcome, Applied)
    return outcome.negotiation


def consumed(n: int, at: datetime = NOW) -> ContractNegotiation:
    return start(
        Role.CONSUMER,
        new_id=f"urn:mine:{n}",
        counterparty_did="did:web:provider.example",
        counterparty_address="https://p/dsp",
        offer=OFFER,
        now=at,
    )


def outbox(n: int, negotiation_id: str, due: datetime = NOW) -> OutboxMessage:
    return OutboxMessage(
        id=f"out-{n}",
        negotiation_id=negotiation_id,
        kind=MessageKind.CONTRACT_AGREEMENT,
        recipient="https://c/cb/negotiations/urn:c:1/agreement",
        payload={"@type": "ContractAgreementMessage", "agreement": AGREEMENT},
        created_at=NOW,
        next_attempt_at=due,
    )


@pytest.fixture(params=["memory", *database_backends()])
async def store(request, tmp_path):
    if request.param == "memory":
        yield InMemoryNegotiationStore()
        return
    async with open_test_database(request.param, tmp_path) as db:
        yield SqlNegotiationStore(db)


async def test_create_then_get_round_trips_every_field(store):
    original = provided(1)
    assert await store.create(original)
    assert await store.get(original.id) == original
    agreed = act(original, MessageKind.CONTRACT_AGREEMENT, now=NOW, agreement=AGREEMENT).negotiation
    assert await store.save(agreed)
    assert await store.get(original.id) == agreed
    mine = consumed(2)  # no provider pid yet, no last digest of theirs
    assert await store.create(mine)
    assert await store.get(mine.id) == mine
    assert await store.get("urn:nothing") is None


async def test_a_duplicate_pid_or_counterparty_pid_is_refused_and_keeps_the_first(store):
    first = provided(1)
    assert await store.create(first)
    assert await store.create(replace(first, dataset_id="other")) is False
    same_process = replace(first, id="urn:p:other", provider_pid="urn:p:other")
    assert await store.create(same_process) is False  # the consumer's opening request, twice
    assert (await store.get(first.id)).dataset_id == first.dataset_id
    assert await store.get("urn:p:other") is None


async def test_find_by_the_counterpartys_pid_and_did(store):
    await store.create(provided(1))
    await store.create(provided(2, did="did:web:other.example"))
    found = await store.find(Role.PROVIDER, "urn:c:1", "did:web:consumer.example")
    assert found is not None and found.id == "urn:p:1"
    assert await store.find(Role.PROVIDER, "urn:c:1", "did:web:other.example") is None  # not theirs
    assert await store.find(Role.CONSUMER, "urn:c:1", "did:web:consumer.example") is None
    assert (await store.find(Role.PROVIDER, "urn:c:2", "did:web:other.example")).id == "urn:p:2"


async def test_save_is_a_compare_and_set_on_the_version(store):
    n = provided(1)
    await store.create(n)
    offered = act(n, MessageKind.CONTRACT_OFFER, now=NOW, offer=OFFER).negotiation
    terminated = act(n, MessageKind.TERMINATION, now=NOW).negotiation
    assert await store.save(offered)
    assert await store.save(terminated) is False  # made from version 1, which is gone: stale
    assert await store.save(offered) is False  # the same write twice is stale too
    assert (await store.get(n.id)).state is State.OFFERED
    assert await store.save(provided(9)) is False  # never stored


async def test_a_save_keeps_the_negotiations_birth(store):
    n = provided(1)
    await store.create(n)
    offered = act(n, MessageKind.CONTRACT_OFFER, now=NOW, offer=OFFER).negotiation
    assert await store.save(replace(offered, created_at=NOW + timedelta(days=1)))
    assert (await store.get(n.id)).created_at == NOW


async def test_of_two_racing_writers_exactly_one_wins(store):
    for i in range(4):
        n = provided(i)
        await store.create(n)
        a = act(n, MessageKind.CONTRACT_OFFER, now=NOW, offer={**OFFER, "round": i}).negotiation
        b = act(n, MessageKind.TERMINATION, now=NOW).negotiation
        racers = (store.save(a), store.save(b)) if i % 2 else (store.save(b), store.save(a))
        results = await asyncio.gather(*racers)
        assert sorted(results) == [False, True]
        winner = (b, a) if i % 2 == 0 else (a, b)
        assert await store.get(n.id) == winner[0 if results[0] else 1]


async def test_list_filters_by_state_and_role_newest_first_with_paging(store):
    for i in range(4):
        await store.create(provided(i, at=NOW + timedelta(seconds=i)))
    await store.create(consumed(9, at=NOW + timedelta(seconds=10)))
    n2 = await store.get("urn:p:2")
    await store.save(act(n2, MessageKind.TERMINATION, now=NOW).negotiation)
    assert [n.id for n in await store.list()] == [
        "urn:mine:9",
        "urn:p:3",
        "urn:p:2",
        "urn:p:1",
        "urn:p:0",
    ]
    assert [n.id for n in await store.list(role=Role.PROVIDER, state=State.REQUESTED)] == [
        "urn:p:3",
        "urn:p:1",
        "urn:p:0",
    ]
    assert [n.id for n in await store.list(state=State.TERMINATED)] == ["urn:p:2"]
    assert [n.id for n in await store.list(role=Role.CONSUMER)] == ["urn:mine:9"]
    assert [n.id for n in await store.list(role=Role.PROVIDER, limit=2, offset=1)] == [
        "urn:p:2",
        "urn:p:1",
    ]


async def test_the_outbox_is_written_with_the_state_change_or_not_at_all(store):
    n = provided(1)
    assert await store.create(n, [outbox(1, n.id)])
    agreed = act(n, MessageKind.CONTRACT_AGREEMENT, now=NOW, agreement=AGREEMENT).negotiation
    stale = act(n, MessageKind.TERMINATION, now=NOW).negotiation
    assert await store.save(agreed, [outbox(2, n.id)])
    assert await store.save(stale, [outbox(3, n.id)]) is False  # refused: its message is not kept
    claimed = await store.claim("w1", NOW, LEASE)
    assert [m.id for m in claimed] == ["out-1", "out-2"]
    assert (
        claimed[1].payload == outbox(2, n.id).payload
        and claimed[1].kind is MessageKind.CONTRACT_AGREEMENT
    )
    assert (claimed[0].lease_owner, claimed[0].lease_until) == ("w1", NOW + LEASE)
    # a duplicate message id rolls the whole save back, state included
    terminated = act(agreed, MessageKind.TERMINATION, now=NOW).negotiation
    assert await store.save(terminated, [outbox(1, n.id)]) is False
    assert (await store.get(n.id)).state is State.AGREED


async def test_two_claimers_never_get_the_same_message_while_its_lease_holds(store):
    n = provided(1)
    await store.create(n, [outbox(i, n.id) for i in range(6)])
    first, second = await asyncio.gather(
        store.claim("w1", NOW, LEASE, limit=6), store.claim("w2", NOW, LEASE, limit=6)
    )
    ids1, ids2 = {m.id for m in first}, {m.id for m in second}
    assert not ids1 & ids2 and ids1 | ids2 == {f"out-{i}" for i in range(6)}
    assert await store.claim("w3", NOW + LEASE - timedelta(seconds=1), LEASE) == []
    # a lapsed lease (the sender died) frees the message for another claimer
    later = NOW + LEASE
    retaken = await store.claim("w3", later, LEASE, limit=10)
    assert len(retaken) == 6 and {m.lease_owner for m in retaken} == {"w3"}
    some = next(iter(ids1)) if ids1 else next(iter(ids2))
    assert await store.complete(some, "w1", later) is False  # w1 lost its lease
    assert await store.complete(some, "w3", later)
    assert await store.complete(some, "w3", later) is False


async def test_a_failed_send_is_retried_with_backoff_and_a_done_one_never_again(store):
    n = provided(1)
    await store.create(n, [outbox(1, n.id), outbox(2, n.id, due=NOW + timedelta(hours=1))])
    [m] = await store.claim("w1", NOW, LEASE)
    assert m.id == "out-1" and m.attempts == 0  # out-2 is not due yet
    retry_at = NOW + backoff(1)
    assert await store.retry("out-1", "w2", retry_at, "refused") is False  # not w2's lease
    assert await store.retry("out-1", "w1", retry_at, "connection refused")
    assert await store.claim("w1", retry_at - timedelta(seconds=1), LEASE) == []
    [again] = await store.claim("w1", retry_at, LEASE)
    assert (again.id, again.attempts, again.last_error) == ("out-1", 1, "connection refused")
    assert await store.complete("out-1", "w1", retry_at)
    assert await store.retry("out-1", "w1", retry_at, "late") is False
    assert [m.id for m in await store.claim("w1", NOW + timedelta(days=1), LEASE)] == ["out-2"]


def test_backoff_doubles_up_to_a_cap():
    assert [backoff(a).total_seconds() for a in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff(50) == timedelta(minutes=10)


@pytest.mark.parametrize("kind", database_backends())
async def test_a_restarted_node_resumes_its_pending_messages(kind, tmp_path):
    async with open_test_database(kind, tmp_path) as db:
        n = provided(1)
        await SqlNegotiationStore(db).create(n, [outbox(1, n.id)])
        [m] = await SqlNegotiationStore(db).claim("before-restart", NOW, LEASE)
        # the node dies holding the lease: drop every connection, start a fresh store
        await db.engine.dispose()
        again = SqlNegotiationStore(db)
        assert await again.claim("after-restart", NOW, LEASE) == []
        [resumed] = await again.claim("after-restart", NOW + LEASE, LEASE)
        assert resumed.id == m.id and resumed.lease_owner == "after-restart"
        assert await again.get(n.id) == n
