"""The transfer store on SQLAlchemy (SQLite or PostgreSQL): processes, outbox, tokens, usage."""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.negotiation.model import Role
from connector.storage.database import Database
from connector.storage.metadata import metadata
from connector.storage.values import aware, json_text
from connector.transfer.model import MessageKind, State, TransferProcess
from connector.transfer.store import OutboxMessage, Token, TokenKind

transfers = sa.Table(
    "transfers",
    metadata,
    sa.Column("id", sa.String(512), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("consumer_pid", sa.String(512), nullable=True),
    sa.Column("provider_pid", sa.String(512), nullable=True),
    sa.Column("counterparty_pid", sa.String(512), nullable=True),
    sa.Column("counterparty_did", sa.String(512), nullable=False),
    sa.Column("counterparty_address", sa.Text(), nullable=True),
    sa.Column("agreement_id", sa.String(512), nullable=False),
    sa.Column("dataset_id", sa.String(512), nullable=True),
    sa.Column("format", sa.String(64), nullable=False),
    sa.Column("data_address", sa.Text(), nullable=True),
    sa.Column("purpose", sa.Text(), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("membership", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("last_message", sa.String(64), nullable=True),
    sa.Column("last_sender", sa.String(16), nullable=True),
    sa.Column("last_digest", sa.String(64), nullable=True),
    sa.UniqueConstraint("role", "counterparty_did", "counterparty_pid", name="uq_transfers_counterparty"),
    sa.Index("ix_transfers_state_role_created", "state", "role", "created_at"),
)

transfer_outbox = sa.Table(
    "transfer_outbox",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("transfer_id", sa.String(512),
              sa.ForeignKey("transfers.id", ondelete="CASCADE", name="fk_transfer_outbox_transfer"),
              nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("recipient", sa.Text(), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Index("ix_transfer_outbox_due", "done_at", "next_attempt_at"),
)

transfer_tokens = sa.Table(
    "transfer_tokens",
    metadata,
    sa.Column("hash", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("transfer_id", sa.String(512),
              sa.ForeignKey("transfers.id", ondelete="CASCADE", name="fk_transfer_tokens_transfer"),
              nullable=False),
    sa.Column("agreement_id", sa.String(512), nullable=False),
    sa.Column("dataset_id", sa.String(512), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked", sa.Boolean(), nullable=False),
    sa.Index("ix_transfer_tokens_transfer", "transfer_id"),
)

transfer_usage = sa.Table(
    "transfer_usage",
    metadata,
    sa.Column("agreement_id", sa.String(512), primary_key=True),
    sa.Column("uses", sa.Integer(), nullable=False),
)


def _values(p: TransferProcess) -> dict[str, Any]:
    return {
        "id": p.id, "role": p.role.value, "state": p.state.value, "consumer_pid": p.consumer_pid,
        "provider_pid": p.provider_pid, "counterparty_pid": p.counterparty_pid,
        "counterparty_did": p.counterparty_did, "counterparty_address": p.counterparty_address,
        "agreement_id": p.agreement_id, "dataset_id": p.dataset_id, "format": p.format,
        "data_address": json_text(p.data_address), "purpose": p.purpose, "reason": p.reason,
        "membership": json.dumps(list(p.membership)) if p.membership else None,
        "created_at": p.created_at, "updated_at": p.updated_at, "version": p.version,
        "last_message": p.last_message.value if p.last_message else None,
        "last_sender": p.last_sender.value if p.last_sender else None, "last_digest": p.last_digest,
    }


def _process(row: sa.Row) -> TransferProcess:
    return TransferProcess(
        id=row.id, role=Role(row.role), state=State(row.state), consumer_pid=row.consumer_pid,
        provider_pid=row.provider_pid, counterparty_did=row.counterparty_did,
        counterparty_address=row.counterparty_address, agreement_id=row.agreement_id,
        dataset_id=row.dataset_id, format=row.format,
        data_address=json.loads(row.data_address) if row.data_address is not None else None,
        created_at=aware(row.created_at), updated_at=aware(row.updated_at),  # type: ignore[arg-type]
        purpose=row.purpose, reason=row.reason, version=row.version,
        membership=tuple(json.loads(row.membership)) if row.membership else (),
        last_message=MessageKind(row.last_message) if row.last_message else None,
        last_sender=Role(row.last_sender) if row.last_sender else None, last_digest=row.last_digest,
    )


def _outbox_values(m: OutboxMessage) -> dict[str, Any]:
    return {
        "id": m.id, "transfer_id": m.transfer_id, "kind": m.kind.value, "recipient": m.recipient,
        "payload": json_text(m.payload), "created_at": m.created_at, "next_attempt_at": m.next_attempt_at,
        "attempts": m.attempts, "lease_owner": m.lease_owner, "lease_until": m.lease_until,
        "done_at": m.done_at, "last_error": m.last_error,
    }


def _outbox(row: sa.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row.id, transfer_id=row.transfer_id, kind=MessageKind(row.kind), recipient=row.recipient,
        payload=json.loads(row.payload), created_at=aware(row.created_at),  # type: ignore[arg-type]
        next_attempt_at=aware(row.next_attempt_at), attempts=row.attempts,  # type: ignore[arg-type]
        lease_owner=row.lease_owner, lease_until=aware(row.lease_until), done_at=aware(row.done_at),
        last_error=row.last_error,
    )


def _token_values(t: Token) -> dict[str, Any]:
    return {"hash": t.hash, "kind": t.kind, "transfer_id": t.transfer_id, "agreement_id": t.agreement_id,
            "dataset_id": t.dataset_id, "expires_at": t.expires_at, "revoked": t.revoked}


class _Stale(Exception):
    """Rolls the transaction back when a compare-and-set matched no row."""


class SqlTransferStore:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def _extras(self, c: AsyncConnection, transfer_id: str, outbox: Sequence[OutboxMessage],
                      tokens: Sequence[Token] = (), revoke: Sequence[str] = ()) -> None:
        if outbox:
            await c.execute(transfer_outbox.insert(), [_outbox_values(m) for m in outbox])
        if revoke:
            await c.execute(transfer_tokens.update().where(
                transfer_tokens.c.transfer_id == transfer_id, transfer_tokens.c.kind.in_(list(revoke)),
            ).values(revoked=True))
        if tokens:
            await c.execute(transfer_tokens.insert(), [_token_values(t) for t in tokens])

    async def create(self, process: TransferProcess, outbox: Sequence[OutboxMessage] = ()) -> bool:
        try:
            async with self._engine.begin() as c:
                await c.execute(transfers.insert().values(**_values(process)))
                await self._extras(c, process.id, outbox)
        except IntegrityError:
            return False
        return True

    async def _one(self, query: sa.Select) -> TransferProcess | None:
        async with self._engine.connect() as c:
            row = (await c.execute(query)).first()
        return _process(row) if row else None

    async def get(self, transfer_id: str) -> TransferProcess | None:
        return await self._one(transfers.select().where(transfers.c.id == transfer_id))

    async def find(self, role: Role, counterparty_pid: str, counterparty_did: str) -> TransferProcess | None:
        t = transfers.c
        return await self._one(transfers.select().where(
            t.role == role.value, t.counterparty_pid == counterparty_pid, t.counterparty_did == counterparty_did))

    async def save(self, process: TransferProcess, outbox: Sequence[OutboxMessage] = (),
                   tokens: Sequence[Token] = (), revoke: Sequence[str] = ()) -> bool:
        values = _values(process)
        del values["id"], values["created_at"]
        query = transfers.update().where(
            transfers.c.id == process.id, transfers.c.version == process.version - 1).values(**values)
        try:
            async with self._engine.begin() as c:
                if (await c.execute(query)).rowcount != 1:
                    raise _Stale
                await self._extras(c, process.id, outbox, tokens, revoke)
        except (_Stale, IntegrityError):
            return False
        return True

    async def list(self, state: State | None = None, role: Role | None = None,
                   limit: int = 100, offset: int = 0) -> list[TransferProcess]:
        query = transfers.select()
        if state is not None:
            query = query.where(transfers.c.state == state.value)
        if role is not None:
            query = query.where(transfers.c.role == role.value)
        query = query.order_by(transfers.c.created_at.desc(), transfers.c.id.desc()).limit(limit).offset(offset)
        async with self._engine.connect() as c:
            return [_process(row) for row in (await c.execute(query)).all()]

    async def live(self, role: Role, limit: int = 500) -> builtins.list[TransferProcess]:
        query = transfers.select().where(
            transfers.c.role == role.value,
            transfers.c.state.in_([State.STARTED.value, State.SUSPENDED.value]),
        ).order_by(transfers.c.id).limit(limit)
        async with self._engine.connect() as c:
            return [_process(row) for row in (await c.execute(query)).all()]

    def _claimable(self, now: datetime) -> sa.ColumnElement[bool]:
        t = transfer_outbox.c
        return sa.and_(t.done_at.is_(None), t.next_attempt_at <= now,
                       sa.or_(t.lease_until.is_(None), t.lease_until <= now))

    async def claim(self, owner: str, now: datetime, lease: timedelta, limit: int = 10) -> builtins.list[OutboxMessage]:
        t = transfer_outbox.c
        candidates = sa.select(t.id).where(self._claimable(now)).order_by(
            t.next_attempt_at, t.created_at, t.id).limit(limit)
        async with self._engine.connect() as c:
            ids = [row.id for row in (await c.execute(candidates)).all()]
        claimed: builtins.list[str] = []
        for message_id in ids:  # one conditional UPDATE each: two claimers never share one
            take = transfer_outbox.update().where(t.id == message_id, self._claimable(now)).values(
                lease_owner=owner, lease_until=now + lease)
            async with self._engine.begin() as c:
                if (await c.execute(take)).rowcount == 1:
                    claimed.append(message_id)
        if not claimed:
            return []
        query = transfer_outbox.select().where(t.id.in_(claimed)).order_by(t.next_attempt_at, t.created_at, t.id)
        async with self._engine.connect() as c:
            return [_outbox(row) for row in (await c.execute(query)).all()]

    async def _leased(self, message_id: str, owner: str, **values: Any) -> bool:
        t = transfer_outbox.c
        query = transfer_outbox.update().where(
            t.id == message_id, t.lease_owner == owner, t.done_at.is_(None)).values(**values)
        async with self._engine.begin() as c:
            return (await c.execute(query)).rowcount == 1

    async def complete(self, message_id: str, owner: str, now: datetime,
                       payload: dict[str, Any] | None = None) -> bool:
        extra = {} if payload is None else {"payload": json_text(payload)}
        return await self._leased(message_id, owner, done_at=now, lease_owner=None, lease_until=None, **extra)

    async def retry(self, message_id: str, owner: str, next_attempt_at: datetime, error: str) -> bool:
        return await self._leased(message_id, owner, attempts=transfer_outbox.c.attempts + 1,
                                  next_attempt_at=next_attempt_at, lease_owner=None, lease_until=None,
                                  last_error=error)

    async def token(self, token_hash: str) -> Token | None:
        query = transfer_tokens.select().where(transfer_tokens.c.hash == token_hash)
        async with self._engine.connect() as c:
            row = (await c.execute(query)).first()
        if row is None:
            return None
        return Token(hash=row.hash, kind=row.kind, transfer_id=row.transfer_id, agreement_id=row.agreement_id,
                     dataset_id=row.dataset_id, expires_at=aware(row.expires_at),  # type: ignore[arg-type]
                     revoked=bool(row.revoked))

    async def rotate(self, transfer_id: str, old_hash: str, tokens: Sequence[Token]) -> bool:
        t = transfer_tokens.c
        # revoking the old token is the compare-and-set: of two refreshes, one wins
        take = transfer_tokens.update().where(
            t.hash == old_hash, t.transfer_id == transfer_id, t.revoked.is_(False)).values(revoked=True)
        try:
            async with self._engine.begin() as c:
                if (await c.execute(take)).rowcount != 1:
                    raise _Stale
                await self._extras(c, transfer_id, (), tokens, (TokenKind.ACCESS, TokenKind.REFRESH))
        except (_Stale, IntegrityError):
            return False
        return True

    async def revoke_access(self) -> int:
        t = transfer_tokens.c
        query = transfer_tokens.update().where(t.kind == TokenKind.ACCESS, t.revoked.is_(False))
        async with self._engine.begin() as c:
            return (await c.execute(query.values(revoked=True))).rowcount

    async def use(self, agreement_id: str) -> int:
        u = transfer_usage.c
        bump = transfer_usage.update().where(u.agreement_id == agreement_id).values(uses=u.uses + 1).returning(u.uses)
        for _ in range(3):
            try:
                async with self._engine.begin() as c:
                    row = (await c.execute(bump)).first()
                    if row is not None:
                        return int(row[0]) - 1
                    await c.execute(transfer_usage.insert().values(agreement_id=agreement_id, uses=1))
                    return 0
            except IntegrityError:  # a concurrent first use inserted it: bump again
                continue
        raise RuntimeError("could not count a use")  # pragma: no cover

    async def uses(self, agreement_id: str) -> int:
        query = sa.select(transfer_usage.c.uses).where(transfer_usage.c.agreement_id == agreement_id)
        async with self._engine.connect() as c:
            row = (await c.execute(query)).first()
        return int(row[0]) if row else 0
