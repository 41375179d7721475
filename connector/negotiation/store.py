"""The negotiation store contract, its outbox, and the in-memory implementation.

Persist, then act: a handler saves the next negotiation together with the messages it must
send (the outbox) in one transaction; a sender loop claims due messages under a lease, sends
them, and marks them done or schedules a retry. A node restarted mid-negotiation finds its
pending messages again once their lease has lapsed.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from connector.negotiation.model import ContractNegotiation, MessageKind, Role, State
from connector.storage.outbox import claimable, is_stale


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    negotiation_id: str
    kind: MessageKind
    recipient: str  # the counterparty's address the message goes to
    payload: dict[str, Any]  # the JSON-LD body, ready to send
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None
    done_at: datetime | None = None
    last_error: str | None = None
    audience: str | None = None  # the recipient's DID, which our ID token is for


class NegotiationStore(Protocol):
    async def create(
        self, negotiation: ContractNegotiation, outbox: Sequence[OutboxMessage] = ()
    ) -> bool:
        """Store a new negotiation and its first messages; False (no change) if its pid, or its
        counterparty's pid for that DID and role, is already stored."""

    async def get(self, negotiation_id: str) -> ContractNegotiation | None: ...

    async def find(
        self, role: Role, counterparty_pid: str, counterparty_did: str
    ) -> ContractNegotiation | None:
        """Our negotiation in `role` that the counterparty `counterparty_did` calls `counterparty_pid`."""

    async def by_agreement(
        self, agreement_id: str, counterparty_did: str | None = None
    ) -> ContractNegotiation | None:
        """The negotiation whose agreement has this `@id` (with that counterparty, if given)."""

    async def save(
        self, negotiation: ContractNegotiation, outbox: Sequence[OutboxMessage] = ()
    ) -> bool:
        """Compare-and-set: store it only if the stored version is `negotiation.version - 1`,
        with its outbox messages in the same transaction; False (no change) for a stale write.
        Its `created_at` stays the stored one."""

    async def list(
        self,
        state: State | None = None,
        role: Role | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ContractNegotiation]:
        """Newest first."""

    async def claim(
        self, owner: str, now: datetime, lease: timedelta, limit: int = 10
    ) -> builtins.list[OutboxMessage]:
        """Due, undone messages whose lease is free or lapsed, now leased to `owner` (oldest first)."""

    async def complete(self, message_id: str, owner: str, now: datetime) -> bool:
        """Mark it sent; False if `owner` no longer holds its lease."""

    async def retry(
        self, message_id: str, owner: str, next_attempt_at: datetime, error: str
    ) -> bool:
        """Count a failed attempt, release the lease and wait until `next_attempt_at`."""


class InMemoryNegotiationStore:
    """For tests and tools: each method runs without awaiting, so it is atomic on one loop."""

    def __init__(self) -> None:
        self._items: dict[str, ContractNegotiation] = {}
        self._outbox: dict[str, OutboxMessage] = {}

    def _key_taken(self, n: ContractNegotiation) -> bool:
        return n.counterparty_pid is not None and any(
            (o.role, o.counterparty_pid, o.counterparty_did)
            == (n.role, n.counterparty_pid, n.counterparty_did)
            for o in self._items.values()
            if o.id != n.id
        )

    def _add_outbox(self, outbox: Sequence[OutboxMessage]) -> bool:
        if any(m.id in self._outbox for m in outbox):
            return False
        self._outbox.update((m.id, m) for m in outbox)
        return True

    async def create(
        self, negotiation: ContractNegotiation, outbox: Sequence[OutboxMessage] = ()
    ) -> bool:
        if negotiation.id in self._items or self._key_taken(negotiation):
            return False
        if any(m.id in self._outbox for m in outbox):
            return False
        self._items[negotiation.id] = negotiation
        return self._add_outbox(outbox)

    async def get(self, negotiation_id: str) -> ContractNegotiation | None:
        return self._items.get(negotiation_id)

    async def find(
        self, role: Role, counterparty_pid: str, counterparty_did: str
    ) -> ContractNegotiation | None:
        for n in self._items.values():
            if (n.role, n.counterparty_pid, n.counterparty_did) == (
                role,
                counterparty_pid,
                counterparty_did,
            ):
                return n
        return None

    async def by_agreement(
        self, agreement_id: str, counterparty_did: str | None = None
    ) -> ContractNegotiation | None:
        found = (
            n
            for n in self._items.values()
            if n.agreement_id == agreement_id
            and counterparty_did in (None, n.counterparty_did)
        )
        return next(found, None)

    async def save(
        self, negotiation: ContractNegotiation, outbox: Sequence[OutboxMessage] = ()
    ) -> bool:
        stored = self._items.get(negotiation.id)
        if stored is None or is_stale(stored.version, negotiation) or self._key_taken(negotiation):
            return False
        if any(m.id in self._outbox for m in outbox):
            return False
        self._items[negotiation.id] = replace(negotiation, created_at=stored.created_at)
        return self._add_outbox(outbox)

    async def list(
        self,
        state: State | None = None,
        role: Role | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ContractNegotiation]:
        found = [
            n
            for n in self._items.values()
            if (state is None or n.state is state) and (role is None or n.role is role)
        ]
        found.sort(key=lambda n: (n.created_at, n.id), reverse=True)  # as the SQL order
        return found[offset : offset + limit]

    async def claim(
        self, owner: str, now: datetime, lease: timedelta, limit: int = 10
    ) -> builtins.list[OutboxMessage]:
        due = sorted(
            (m for m in self._outbox.values() if claimable(m, now)),
            key=lambda m: (m.next_attempt_at, m.created_at, m.id),
        )[:limit]
        claimed = [replace(m, lease_owner=owner, lease_until=now + lease) for m in due]
        self._outbox.update((m.id, m) for m in claimed)
        return claimed

    async def complete(self, message_id: str, owner: str, now: datetime) -> bool:
        m = self._outbox.get(message_id)
        if m is None or m.done_at is not None or m.lease_owner != owner:
            return False
        self._outbox[message_id] = replace(m, done_at=now, lease_owner=None, lease_until=None)
        return True

    async def retry(
        self, message_id: str, owner: str, next_attempt_at: datetime, error: str
    ) -> bool:
        m = self._outbox.get(message_id)
        if m is None or m.done_at is not None or m.lease_owner != owner:
            return False
        self._outbox[message_id] = replace(
            m,
            attempts=m.attempts + 1,
            next_attempt_at=next_attempt_at,
            lease_owner=None,
            lease_until=None,
            last_error=error,
        )
        return True
