"""The rules every feature's outbox shares: compare-and-set, leases, retries with backoff.

A handler saves the next state of a process together with the messages it must send, in one
transaction; a sender holds a message under a lease while it sends it, then marks it done or
schedules another attempt, up to ATTEMPTS of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# Answers that no retry can change (409 is a race: it is retried like a 5xx)
PERMANENT = frozenset({400, 403, 404, 405, 410, 413, 415, 422})
# Failed sends of one message before its process is given up: with the backoff below, the
# last attempt comes about 17 minutes after the first (a restart, not an outage, is waited out)
ATTEMPTS = 10


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
