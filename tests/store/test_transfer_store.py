"""The transfer store contract: CAS, outbox leases, hashed tokens and usage counts, on every
backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from connector.negotiation.model import Role
from connector.transfer.model import PULL, Message, MessageKind, State, act, receive, start
from connector.transfer.sql import SqlTransferStore
from connector.transfer.store import InMemoryTransferStore, OutboxMessage, Token, TokenKind
from tests.conftest import database_backends, open_test_database

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def provided(n: int, did: str = "did:web:consumer.example"):
    request = Message(MessageKind.REQUEST, consumer_pid=f"urn:c:{n}", agreement_id="urn:agreement:1",
                      format=PULL, callback_address="https://c/cb", purpose="héllo")
    p = receive(None, Role.PROVIDER, request, did, now=NOW + timedelta(seconds=n), new_id=f"urn:p:{n}",
                dataset_id="urn:dataset:1").process
    return replace(p, membership=("did:web:anchor",))


def outbox(n: int, transfer_id: str, due: datetime = NOW) -> OutboxMessage:
    return OutboxMessage(id=f"out-{n}", transfer_id=transfer_id, kind=MessageKind.START,
                         recipient="https://c/cb/transfers/urn:c:1/start",
                         payload={"@type": "TransferStartMessage", "dataAddress": {"endpoint": "x"}},
                         created_at=NOW, next_attempt_at=due)


def token(h: str, transfer_id: str, kind: str = TokenKind.ACCESS) -> Token:
    return Token(h, kind, transfer_id, "urn:agreement:1", "urn:dataset:1", NOW + timedelta(minutes=10))


@pytest.fixture(params=["memory", *database_backends()])
async def store(request, tmp_path):
    if request.param == "memory":
        yield InMemoryTransferStore()
        return
    async with open_test_database(request.param, tmp_path) as db:
        yield SqlTransferStore(db)


async def test_round_trip_find_and_duplicates(store):
    p = provided(1)
    assert await store.create(p)
    assert await store.get(p.id) == p
    assert await store.create(replace(p, dataset_id="other")) is False
    assert await store.create(replace(p, id="urn:p:other", provider_pid="urn:p:other")) is False  # same consumer pid
    assert (await store.find(Role.PROVIDER, "urn:c:1", "did:web:consumer.example")).id == p.id
    assert await store.find(Role.PROVIDER, "urn:c:1", "did:web:other.example") is None
    mine = start(new_id="urn:c:9", counterparty_did="did:web:p", counterparty_address="https://p/dsp",
                 agreement_id="urn:a", dataset_id=None, format=PULL, data_address={"endpoint": "e"}, now=NOW)
    assert await store.create(mine)
    assert await store.get(mine.id) == mine


async def test_save_is_a_compare_and_set(store):
    p = provided(1)
    await store.create(p)
    started = act(p, MessageKind.START, now=NOW).process
    ended = act(p, MessageKind.TERMINATION, now=NOW).process
    assert await store.save(started)
    assert await store.save(ended) is False
    assert await store.save(started) is False
    assert (await store.get(p.id)).state is State.STARTED


async def test_racing_writers_one_wins(store):
    p = provided(1)
    await store.create(p)
    a = act(p, MessageKind.START, now=NOW).process
    b = act(p, MessageKind.TERMINATION, now=NOW).process
    results = await asyncio.gather(store.save(a), store.save(b))
    assert sorted(results) == [False, True]


async def test_outbox_and_tokens_commit_with_the_step_or_not_at_all(store):
    p = provided(1)
    await store.create(p)
    started = act(p, MessageKind.START, now=NOW).process
    assert await store.save(started, [outbox(1, p.id)], [token("a" * 64, p.id), token("r" * 64, p.id, TokenKind.REFRESH)])
    assert (await store.token("a" * 64)).kind == TokenKind.ACCESS
    stale = act(p, MessageKind.TERMINATION, now=NOW).process
    assert await store.save(stale, [outbox(2, p.id)], [token("b" * 64, p.id)]) is False
    assert await store.token("b" * 64) is None
    claimed = await store.claim("me", NOW, LEASE)
    assert [m.id for m in claimed] == ["out-1"]
    # a suspension revokes the access token only, an end every token
    suspended = act(started, MessageKind.SUSPENSION, now=NOW).process
    assert await store.save(suspended, revoke=(TokenKind.ACCESS,))
    assert (await store.token("a" * 64)).revoked and not (await store.token("r" * 64)).revoked


async def test_outbox_leases_retry_and_complete_with_a_scrubbed_payload(store):
    p = provided(1)
    await store.create(p, [outbox(1, p.id), outbox(2, p.id, due=NOW + timedelta(hours=1))])
    first = await store.claim("a", NOW, LEASE)
    assert [m.id for m in first] == ["out-1"]
    assert await store.claim("b", NOW, LEASE) == []  # leased
    assert await store.retry("out-1", "b", NOW, "x") is False  # not b's
    assert await store.retry("out-1", "a", NOW + timedelta(seconds=5), "503")
    again = await store.claim("b", NOW + timedelta(seconds=5), LEASE)
    assert [(m.id, m.attempts, m.last_error) for m in again] == [("out-1", 1, "503")]
    assert await store.complete("out-1", "b", NOW, payload={"@type": "TransferStartMessage"})
    assert await store.complete("out-1", "b", NOW) is False
    assert await store.claim("c", NOW + timedelta(hours=2), LEASE) != []  # out-2 is due by then
    # a lapsed lease is claimable again (a restarted node)
    await store.create(provided(2), [outbox(3, "urn:p:2")])
    await store.claim("dead", NOW, LEASE)
    assert [m.id for m in await store.claim("alive", NOW + LEASE, LEASE)] == ["out-3"]


async def test_rotate_is_single_use(store):
    p = provided(1)
    await store.create(p)
    started = act(p, MessageKind.START, now=NOW).process
    await store.save(started, tokens=[token("a" * 64, p.id), token("r" * 64, p.id, TokenKind.REFRESH)])
    fresh = [token("c" * 64, p.id), token("s" * 64, p.id, TokenKind.REFRESH)]
    assert await store.rotate(p.id, "r" * 64, fresh)
    assert (await store.token("a" * 64)).revoked and (await store.token("r" * 64)).revoked
    assert not (await store.token("c" * 64)).revoked
    assert await store.rotate(p.id, "r" * 64, [token("d" * 64, p.id)]) is False  # replayed refresh token
    assert await store.token("d" * 64) is None


async def test_usage_counts_per_agreement_under_concurrency(store):
    assert await store.uses("urn:a") == 0
    befores = await asyncio.gather(*(store.use("urn:a") for _ in range(8)))
    assert sorted(befores) == list(range(8))
    assert await store.uses("urn:a") == 8 and await store.uses("urn:b") == 0


async def test_list_and_live(store):
    for n in range(1, 4):
        await store.create(provided(n))
    started = act(await store.get("urn:p:2"), MessageKind.START, now=NOW).process
    await store.save(started)
    assert [p.id for p in await store.list()] == ["urn:p:3", "urn:p:2", "urn:p:1"]
    assert [p.id for p in await store.list(state=State.STARTED)] == ["urn:p:2"]
    assert await store.list(role=Role.CONSUMER) == []
    assert [p.id for p in await store.list(limit=1, offset=1)] == ["urn:p:2"]
    assert [p.id for p in await store.live(Role.PROVIDER)] == ["urn:p:2"]
