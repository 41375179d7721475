"""The rules every feature's outbox shares: compare-and-set, leases, retries with backoff,
and the order in which a sender lets messages go.

A handler saves the next state of a process together with the messages it must send, in one
transaction; a sender holds a message under a lease while it sends it, then marks it done or
schedules another attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

# Answers that no retry can change (409 is a race: it is retried like a 5xx)
PERMANENT = frozenset({400, 403, 404, 405, 410, 413, 415, 422})


def backoff(
    attempts: int, base: timedelta = timedelta(seconds=2), cap: timedelta = timedelta(minutes=10)
) -> timedelta:
    """Exponential delay before the next attempt, after `attempts` failed ones."""
    exponent = min(max(0, attempts - 1), 32)  # bounded: a timedelta overflows long before 2**50
    return min(cap, base * (2**exponent))


def is_stale(stored_version: int | None, process: Any) -> bool:
    """Whether PROCESS (with its next `version`) may not replace the stored one."""
    return stored_version != process.version - 1


def claimable(message: Any, now: datetime) -> bool:
    """An outbox message that is due, undone, and not leased (or its lease lapsed)."""
    lease_free = message.lease_until is None or message.lease_until <= now
    return message.done_at is None and message.next_attempt_at <= now and lease_free


class Dispatcher:
    """Sends messages in the background, each in a task of its own that waits for the one
    dispatched before it for the same process: a process's messages leave in the order they
    were saved, and a slow counterparty holds up only its own processes. A send that raises
    is logged and retried later through STORE, like a failed delivery."""

    def __init__(self, send: Callable[[Any], Awaitable[None]], process_of: Callable[[Any], str],
                 store: Any, owner: str) -> None:
        self._send, self._process_of, self._store, self._owner = send, process_of, store, owner
        self._tails: dict[str, asyncio.Task[None]] = {}  # the last send dispatched per process

    def __call__(self, message: Any) -> None:
        key = self._process_of(message)
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
            await self._send(message)
        except Exception:  # noqa: BLE001 - one bad message must not stop the others
            log.exception("sending %s failed", message.id)
            when = datetime.now(UTC) + backoff(message.attempts + 1)
            await self._store.retry(message.id, self._owner, when, "internal error")

    async def close(self) -> None:
        """Cancel the sends under way (their leases lapse, and a later sender takes them)."""
        tails = list(self._tails.values())
        for task in tails:
            task.cancel()
        await asyncio.gather(*tails, return_exceptions=True)


async def keep_working(run_once: Callable[[], Awaitable[int]], wake: asyncio.Event, poll: float,
                       name: str) -> None:
    """Run RUN_ONCE again at once while it finds work, else once WAKE is set or POLL seconds
    have passed (a sender's or a worker's loop)."""
    while True:
        wake.clear()  # before looking: what is queued from now on wakes the next round
        try:
            if await run_once():
                continue
        except Exception:  # noqa: BLE001 - e.g. the database is briefly locked
            log.exception("the %s loop failed; retrying", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), poll)
