"""The sender's order: per process, in the order saved; across processes, independent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from connector.negotiation.model import MessageKind, Role, start
from connector.negotiation.store import InMemoryNegotiationStore, OutboxMessage
from connector.storage.outbox import Dispatcher

NOW = datetime.now(UTC)
OWNER = "sender-1"


def message(n: int, process: str) -> OutboxMessage:
    return OutboxMessage(id=f"m{n}", negotiation_id=process, kind=MessageKind.CONTRACT_REQUEST,
                         recipient="http://127.0.0.1:9/x", payload={}, created_at=NOW,
                         next_attempt_at=NOW, lease_owner=OWNER, lease_until=NOW + timedelta(minutes=1))


async def test_one_process_in_order_and_a_slow_one_holds_up_only_itself():
    sent: list[str] = []
    slow = asyncio.Event()

    async def send(m: OutboxMessage) -> None:
        if m.negotiation_id == "slow":
            await slow.wait()
        await asyncio.sleep(0.01 if m.id == "m1" else 0)  # the first of "a" takes longest
        sent.append(m.id)

    dispatch = Dispatcher(send, lambda m: m.negotiation_id, InMemoryNegotiationStore(), OWNER)
    for n, process in enumerate(["slow", "a", "a", "b", "a"]):
        dispatch(message(n, process))
    await asyncio.sleep(0.1)
    assert sent == ["m3", "m1", "m2", "m4"]  # "a" in its order; "b" did not wait for "a"
    slow.set()
    await asyncio.sleep(0.05)
    assert sent[-1] == "m0"
    await dispatch.close()


async def test_a_send_that_raises_is_retried_later_and_the_next_one_still_goes():
    store = InMemoryNegotiationStore()
    n = start(Role.CONSUMER, new_id="p", counterparty_did="did:web:x", counterparty_address="http://x",
              offer={}, now=NOW)
    await store.create(n, [message(1, "p"), message(2, "p")])
    sent: list[str] = []

    async def send(m: OutboxMessage) -> None:
        if m.id == "m1":
            raise RuntimeError("a bug")
        sent.append(m.id)
        await store.complete(m.id, OWNER, NOW)

    dispatch = Dispatcher(send, lambda m: m.negotiation_id, store, OWNER)
    dispatch(message(1, "p"))
    dispatch(message(2, "p"))
    await asyncio.sleep(0.05)
    assert sent == ["m2"]
    now = datetime.now(UTC)  # the retry was scheduled from the clock, not from NOW
    assert await store.claim("another", now, timedelta(minutes=1)) == []  # it waits for its backoff
    [later] = await store.claim("another", now + timedelta(minutes=5), timedelta(minutes=1))
    assert later.id == "m1" and later.attempts == 1 and later.last_error == "internal error"
    await dispatch.close()
