"""The transfer store contract (processes, their outbox, data-plane tokens, usage counts) and
its in-memory implementation.

Persist, then act, as for negotiations: a step is saved with the messages it sends (the
outbox) in one transaction, and a sender loop delivers them under a lease. Access tokens are
kept as SHA-256 hashes only: a stolen database serves nothing.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from connector.negotiation.model import Role
from connector.storage.outbox import claimable, is_stale
from connector.transfer.model import MessageKind, State, TransferProcess


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    transfer_id: str
    kind: MessageKind
    recipient: str
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None
    done_at: datetime | None = None
    last_error: str | None = None


class TokenKind:
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True)
class Token:
    hash: str  # sha256 hex of the secret; the secret itself is never stored
    kind: str  # TokenKind
    transfer_id: str
    agreement_id: str
    dataset_id: str
    expires_at: datetime
    revoked: bool = False


class TransferStore(Protocol):
    async def create(self, process: TransferProcess, outbox: Sequence[OutboxMessage] = ()) -> bool:
        """A new process and its first messages; False if its pid, or its counterparty's pid for
        that DID and role, is taken."""

    async def get(self, transfer_id: str) -> TransferProcess | None: ...

    async def find(self, role: Role, counterparty_pid: str, counterparty_did: str) -> TransferProcess | None: ...

    async def save(self, process: TransferProcess, outbox: Sequence[OutboxMessage] = (),
                   tokens: Sequence[Token] = (), revoke: Sequence[str] = ()) -> bool:
        """Compare-and-set on the version, with its outbox messages, new tokens and the token
        kinds to revoke for this transfer (all in one transaction); False for a stale write."""

    async def list(self, state: State | None = None, role: Role | None = None,
                   limit: int = 100, offset: int = 0) -> list[TransferProcess]:
        """Newest first."""

    async def live(self, role: Role, limit: int = 500) -> builtins.list[TransferProcess]:
        """STARTED and SUSPENDED processes in that role (the policy monitor's work list)."""

    async def claim(self, owner: str, now: datetime, lease: timedelta, limit: int = 10) -> builtins.list[OutboxMessage]: ...

    async def complete(self, message_id: str, owner: str, now: datetime,
                       payload: dict[str, Any] | None = None) -> bool:
        """Mark it sent (replacing its stored payload when given, e.g. to drop secrets)."""

    async def retry(self, message_id: str, owner: str, next_attempt_at: datetime, error: str) -> bool: ...

    async def token(self, token_hash: str) -> Token | None: ...

    async def rotate(self, transfer_id: str, old_hash: str, tokens: Sequence[Token]) -> bool:
        """Revoke every token of the transfer and add TOKENS, if OLD_HASH is still unrevoked."""

    async def revoke_access(self) -> int:
        """Revoke every access token of every transfer (the node starts); how many were live."""

    async def use(self, agreement_id: str) -> int:
        """Count one exercise under that agreement; the count before it."""

    async def uses(self, agreement_id: str) -> int: ...


class InMemoryTransferStore:
    """For tests and tools: each method runs without awaiting, so it is atomic on one loop."""

    def __init__(self) -> None:
        self._items: dict[str, TransferProcess] = {}
        self._outbox: dict[str, OutboxMessage] = {}
        self._tokens: dict[str, Token] = {}
        self._uses: dict[str, int] = {}

    def _key_taken(self, p: TransferProcess) -> bool:
        return p.counterparty_pid is not None and any(
            (o.role, o.counterparty_pid, o.counterparty_did) == (p.role, p.counterparty_pid, p.counterparty_did)
            for o in self._items.values() if o.id != p.id
        )

    def _fits(self, outbox: Sequence[OutboxMessage], tokens: Sequence[Token]) -> bool:
        return not any(m.id in self._outbox for m in outbox) and not any(t.hash in self._tokens for t in tokens)

    def _revoke(self, transfer_id: str, kinds: Sequence[str]) -> None:
        for h, t in list(self._tokens.items()):
            if t.transfer_id == transfer_id and t.kind in kinds:
                self._tokens[h] = replace(t, revoked=True)

    async def create(self, process: TransferProcess, outbox: Sequence[OutboxMessage] = ()) -> bool:
        if process.id in self._items or self._key_taken(process) or not self._fits(outbox, ()):
            return False
        self._items[process.id] = process
        self._outbox.update((m.id, m) for m in outbox)
        return True

    async def get(self, transfer_id: str) -> TransferProcess | None:
        return self._items.get(transfer_id)

    async def find(self, role: Role, counterparty_pid: str, counterparty_did: str) -> TransferProcess | None:
        for p in self._items.values():
            if (p.role, p.counterparty_pid, p.counterparty_did) == (role, counterparty_pid, counterparty_did):
                return p
        return None

    async def save(self, process: TransferProcess, outbox: Sequence[OutboxMessage] = (),
                   tokens: Sequence[Token] = (), revoke: Sequence[str] = ()) -> bool:
        stored = self._items.get(process.id)
        if stored is None or is_stale(stored.version, process) or self._key_taken(process):
            return False
        if not self._fits(outbox, tokens):
            return False
        self._items[process.id] = process
        self._outbox.update((m.id, m) for m in outbox)
        self._revoke(process.id, revoke)
        self._tokens.update((t.hash, t) for t in tokens)
        return True

    async def list(self, state: State | None = None, role: Role | None = None,
                   limit: int = 100, offset: int = 0) -> list[TransferProcess]:
        found = [p for p in self._items.values()
                 if (state is None or p.state is state) and (role is None or p.role is role)]
        found.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        return found[offset: offset + limit]

    async def live(self, role: Role, limit: int = 500) -> builtins.list[TransferProcess]:
        found = [p for p in self._items.values()
                 if p.role is role and p.state in (State.STARTED, State.SUSPENDED)]
        return sorted(found, key=lambda p: p.id)[:limit]

    async def claim(self, owner: str, now: datetime, lease: timedelta, limit: int = 10) -> builtins.list[OutboxMessage]:
        due = sorted((m for m in self._outbox.values() if claimable(m, now)),
                     key=lambda m: (m.next_attempt_at, m.created_at, m.id))[:limit]
        claimed = [replace(m, lease_owner=owner, lease_until=now + lease) for m in due]
        self._outbox.update((m.id, m) for m in claimed)
        return claimed

    async def complete(self, message_id: str, owner: str, now: datetime,
                       payload: dict[str, Any] | None = None) -> bool:
        m = self._outbox.get(message_id)
        if m is None or m.done_at is not None or m.lease_owner != owner:
            return False
        self._outbox[message_id] = replace(m, done_at=now, lease_owner=None, lease_until=None,
                                           payload=m.payload if payload is None else payload)
        return True

    async def retry(self, message_id: str, owner: str, next_attempt_at: datetime, error: str) -> bool:
        m = self._outbox.get(message_id)
        if m is None or m.done_at is not None or m.lease_owner != owner:
            return False
        self._outbox[message_id] = replace(m, attempts=m.attempts + 1, next_attempt_at=next_attempt_at,
                                           lease_owner=None, lease_until=None, last_error=error)
        return True

    async def token(self, token_hash: str) -> Token | None:
        return self._tokens.get(token_hash)

    async def rotate(self, transfer_id: str, old_hash: str, tokens: Sequence[Token]) -> bool:
        old = self._tokens.get(old_hash)
        if old is None or old.revoked or old.transfer_id != transfer_id or not self._fits((), tokens):
            return False
        self._revoke(transfer_id, (TokenKind.ACCESS, TokenKind.REFRESH))
        self._tokens.update((t.hash, t) for t in tokens)
        return True

    async def revoke_access(self) -> int:
        live = [h for h, t in self._tokens.items() if t.kind == TokenKind.ACCESS and not t.revoked]
        for h in live:
            self._tokens[h] = replace(self._tokens[h], revoked=True)
        return len(live)

    async def use(self, agreement_id: str) -> int:
        before = self._uses.get(agreement_id, 0)
        self._uses[agreement_id] = before + 1
        return before

    async def uses(self, agreement_id: str) -> int:
        return self._uses.get(agreement_id, 0)
