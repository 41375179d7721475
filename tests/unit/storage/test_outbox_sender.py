"""The outbox sender: per process in the order saved, across processes independent, a send
that raises retried later, and what was saved while none ran claimed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from connector.negotiation.model import MessageKind, Role, start
from connector.negotiation.store import InMemoryNegotiationStore, OutboxMessage
from connector.storage.sender import Handoff, OutboxSender

NOW = datetime.now(UTC)


class Sender(OutboxSender):
    def __init__(self, handoff: Handoff, store, send: Callable[[OutboxMessage], Awaitable[None]]) -> None:
        super().__init__(handoff, store)
        self._send = send

    def process_of(self, message: OutboxMessage) -> str:
        return message.negotiation_id

    async def send(self, message: OutboxMessage) -> None:
        await self._send(message)


def message(n: int, process: str) -> OutboxMessage:
    return OutboxMessage(id=f"m{n}", negotiation_id=process, kind=MessageKind.CONTRACT_REQUEST,
                         recipient="http://127.0.0.1:9/x", payload={}, created_at=NOW, next_attempt_at=NOW)


async def test_one_process_in_order_and_a_slow_one_holds_up_only_itself():
    sent: list[str] = []
    slow = asyncio.Event()

    async def send(m: OutboxMessage) -> None:
        if m.negotiation_id == "slow":
            await slow.wait()
        await asyncio.sleep(0.01 if m.id == "m1" else 0)  # the first of "a" takes longest
        sent.append(m.id)

    sender = Sender(Handoff(), InMemoryNegotiationStore(), send)
    for n, process in enumerate(["slow", "a", "a", "b", "a"]):
        sender.dispatch(message(n, process))
    await asyncio.sleep(0.1)
    assert sent == ["m3", "m1", "m2", "m4"]  # "a" in its order; "b" did not wait for "a"
    slow.set()
    await asyncio.sleep(0.05)
    assert sent[-1] == "m0"


async def test_a_send_that_raises_is_retried_later_and_the_next_one_still_goes():
    store, handoff = InMemoryNegotiationStore(), Handoff()
    sent: list[str] = []

    async def send(m: OutboxMessage) -> None:
        if m.id == "m1":
            raise RuntimeError("a bug")
        sent.append(m.id)
        await store.complete(m.id, handoff.owner, NOW)

    sender = Sender(handoff, store, send)
    handoff.sender = sender.dispatch  # as if it ran
    n = start(Role.CONSUMER, new_id="p", counterparty_did="did:web:x", counterparty_address="http://x",
              offer={}, now=NOW)
    outbox = handoff.leased([message(1, "p"), message(2, "p")])
    assert {m.lease_owner for m in outbox} == {handoff.owner}
    await store.create(n, outbox)
    handoff.hand_over(outbox)
    await asyncio.sleep(0.05)
    assert sent == ["m2"]
    now = datetime.now(UTC)  # the retry was scheduled from the clock, not from NOW
    assert await store.claim("another", now, timedelta(minutes=1)) == []  # it waits for its backoff
    [later] = await store.claim("another", now + timedelta(minutes=5), timedelta(minutes=1))
    assert later.id == "m1" and later.attempts == 1 and later.last_error == "internal error"


async def test_what_is_saved_while_no_sender_runs_is_left_for_the_first_to_claim_it():
    store, handoff, sent = InMemoryNegotiationStore(), Handoff(), []

    async def send(m: OutboxMessage) -> None:
        sent.append(m.id)
        await store.complete(m.id, handoff.owner, datetime.now(UTC))

    async def save(process: str, n: int) -> OutboxMessage:
        outbox = handoff.leased([message(n, process)])
        await store.create(start(Role.CONSUMER, new_id=process, counterparty_did="did:web:x",
                                 counterparty_address="http://x", offer={}, now=NOW), outbox)
        handoff.hand_over(outbox)
        return outbox[0]

    assert (await save("p", 1)).lease_owner is None  # no sender yet: saved unleased
    running = asyncio.create_task(Sender(handoff, store, send).run())  # claims it at once
    await asyncio.sleep(0.05)
    assert (await save("q", 2)).lease_owner == handoff.owner  # a sender runs: leased, handed over
    await asyncio.sleep(0.05)
    assert sent == ["m1", "m2"]
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert handoff.sender is None  # stopped: what is saved now is left unleased again
    assert (await save("r", 3)).lease_owner is None
