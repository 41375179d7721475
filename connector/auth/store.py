"""The store of JWT ids already used (replay protection): the contract and an in-memory store.

A jti is kept until its token expires (plus the clock skew the verifier tolerates); after that
the token itself is refused as expired, so the entry can go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class JtiStore(Protocol):
    async def record(self, key: str, expires_at: datetime, now: datetime) -> bool:
        """Atomically remember `key` until `expires_at`: True the first time, False while an
        unexpired entry for it exists (a replay). An expired entry is replaced."""

    async def prune(self, now: datetime) -> int:
        """Forget every entry expired at `now`; the number forgotten."""


class InMemoryJtiStore:
    """For tests and tools: one process, lost on restart (nodes use the SQL store)."""

    def __init__(self) -> None:
        self._items: dict[str, datetime] = {}

    async def record(self, key: str, expires_at: datetime, now: datetime) -> bool:
        # no await between the check and the write: atomic on one event loop
        known = self._items.get(key)
        if known is not None and known > now:
            return False
        self._items[key] = expires_at
        return True

    async def prune(self, now: datetime) -> int:
        expired = [k for k, until in self._items.items() if until <= now]
        for key in expired:
            del self._items[key]
        return len(expired)

    def __len__(self) -> int:
        return len(self._items)
