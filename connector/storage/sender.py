"""A feature's outbox sender, shared by negotiations and transfers.

What a service saves to send is leased, in the same transaction, to this process's sender and
handed to it at once (`Handoff`): no poll, no queue, since each hop through the event loop
costs a process milliseconds under load. While no sender runs, it is saved unleased. The
sender (`OutboxSender`) sends each message in a task of its own that waits for the one before
it for the same process: a process's messages leave in the order they were saved, and a slow
counterparty holds up only its own processes. Every POLL seconds it also claims what is due:
retries, and what a stopped sender left once its lease lapsed. A message that failed
ATTEMPTS times, or that no retry can help, is given up: the feature ends its process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from connector.storage.outbox import ATTEMPTS, backoff

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)  # a sender's hold on a message: longer than one send may take
POLL = 1.0  # seconds between two looks for due messages
M = TypeVar("M")


@dataclass
class Handoff:
    """The service's side: lease what it saves to our sender, then hand it over. With no
    sender running, messages are saved unleased, for whichever sender claims them first."""

    owner: str = field(default_factory=lambda: f"sender-{uuid.uuid4()}")
    sender: Callable[[Any], None] | None = None  # the running sender's dispatch

    def leased(self, outbox: Sequence[M]) -> list[M]:
        """OUTBOX as it must be saved: leased to our sender, if one runs."""
        if self.sender is None:
            return list(outbox)
        until = datetime.now(UTC) + LEASE
        return [replace(m, lease_owner=self.owner, lease_until=until) for m in outbox]  # type: ignore[type-var]

    def hand_over(self, outbox: Sequence[Any]) -> None:
        """After the save: to the sender what was leased to it (the rest is claimed)."""
        if self.sender is not None:
            for message in outbox:
                if message.lease_owner == self.owner:
                    self.sender(message)


class OutboxSender:
    """The sender's side. A feature's manager says how one message is sent (`send`), and
    which process it belongs to (`process_of`)."""

    name = "outbox"
    attempts = ATTEMPTS  # failed sends of a message before its process is given up

    def __init__(self, handoff: Handoff, store: Any) -> None:
        self.handoff, self.store = handoff, store
        self.owner = handoff.owner
        self._tails: dict[str, asyncio.Task[None]] = {}  # the last send dispatched per process

    async def send(self, message: Any) -> None:
        raise NotImplementedError

    def process_of(self, message: Any) -> str:
        raise NotImplementedError

    async def give_up(self, message: Any, reason: str) -> None:
        """Stop sending MESSAGE, for REASON, and end its process."""
        raise NotImplementedError

    def dispatch(self, message: Any) -> None:
        """Send MESSAGE in the background, after what is dispatched for its process."""
        key = self.process_of(message)
        task = asyncio.create_task(self._after(self._tails.get(key), message))
        self._tails[key] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._tails.get(key) is done:
                del self._tails[key]

        task.add_done_callback(forget)

    async def _after(self, previous: asyncio.Task[None] | None, message: Any) -> None:
        if previous is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await previous
        try:
            await self.send(message)
        except Exception:  # noqa: BLE001 - one bad message must not stop the others
            log.exception("sending %s failed", message.id)
            await self.retry_later(message, "internal error")

    async def retry_later(self, message: Any, error: str) -> None:
        """Count a failed attempt and release MESSAGE until its backoff has passed; give it
        up after its last attempt."""
        failed = message.attempts + 1
        if failed >= self.attempts:
            await self.give_up(message, f"{failed} attempts failed, the last with {error}")
            return
        await self.store.retry(message.id, self.owner, datetime.now(UTC) + backoff(failed), error)

    async def run_once(self) -> int:
        """Claim what is due and dispatch it."""
        claimed = await self.store.claim(self.owner, datetime.now(UTC), LEASE)
        for message in claimed:
            self.dispatch(message)
        return len(claimed)

    async def run(self) -> None:
        """Take over what the service saves, and claim what is due every POLL seconds, until
        cancelled; the sends under way are cancelled then (their leases lapse, and a later
        sender takes them)."""
        handoff = self.handoff
        handoff.sender = self.dispatch
        try:
            while True:
                try:
                    await self.run_once()
                except Exception:  # noqa: BLE001 - e.g. the database is briefly locked
                    log.exception("the %s loop failed; retrying", self.name)
                await asyncio.sleep(POLL)
        finally:
            if handoff.sender == self.dispatch:
                handoff.sender = None
            tails = list(self._tails.values())
            for task in tails:
                task.cancel()
            await asyncio.gather(*tails, return_exceptions=True)
