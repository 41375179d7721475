"""The negotiation store and its outbox on SQLAlchemy (SQLite or PostgreSQL)."""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.negotiation.model import ContractNegotiation, MessageKind, Role, State
from connector.negotiation.store import OutboxMessage
from connector.storage.database import Database
from connector.storage.metadata import metadata
from connector.storage.values import aware, json_text

negotiations = sa.Table(
    "negotiations",
    metadata,
    sa.Column("id", sa.String(512), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("consumer_pid", sa.String(512), nullable=True),
    sa.Column("provider_pid", sa.String(512), nullable=True),
    # the counterparty's pid, kept apart so that one unique index answers `find`
    sa.Column("counterparty_pid", sa.String(512), nullable=True),
    sa.Column("counterparty_did", sa.String(512), nullable=False),
    sa.Column("counterparty_address", sa.Text(), nullable=True),
    sa.Column("dataset_id", sa.String(512), nullable=True),
    sa.Column("offer", sa.Text(), nullable=False),
    sa.Column("agreement", sa.Text(), nullable=True),
    sa.Column("agreement_id", sa.String(512), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("last_message", sa.String(64), nullable=True),
    sa.Column("last_sender", sa.String(16), nullable=True),
    sa.Column("last_digest", sa.String(64), nullable=True),
    sa.UniqueConstraint(
        "role", "counterparty_did", "counterparty_pid", name="uq_negotiations_counterparty"
    ),
    sa.Index("ix_negotiations_state_role_created", "state", "role", "created_at"),
    sa.Index("ix_negotiations_agreement", "agreement_id"),
)

negotiation_outbox = sa.Table(
    "negotiation_outbox",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column(
        "negotiation_id",
        sa.String(512),
        sa.ForeignKey(
            "negotiations.id", ondelete="CASCADE", name="fk_negotiation_outbox_negotiation"
        ),
        nullable=False,
    ),
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
    sa.Column("audience", sa.String(512), nullable=True),
    sa.Index("ix_negotiation_outbox_due", "done_at", "next_attempt_at"),
)


def _negotiation_values(n: ContractNegotiation) -> dict[str, Any]:
    return {
        "id": n.id,
        "role": n.role.value,
        "state": n.state.value,
        "consumer_pid": n.consumer_pid,
        "provider_pid": n.provider_pid,
        "counterparty_pid": n.counterparty_pid,
        "counterparty_did": n.counterparty_did,
        "counterparty_address": n.counterparty_address,
        "dataset_id": n.dataset_id,
        "offer": json_text(n.offer),
        "agreement": json_text(n.agreement),
        "agreement_id": n.agreement_id,
        "created_at": n.created_at,
        "updated_at": n.updated_at,
        "version": n.version,
        "last_message": n.last_message.value if n.last_message else None,
        "last_sender": n.last_sender.value if n.last_sender else None,
        "last_digest": n.last_digest,
    }


def _negotiation(row: sa.Row) -> ContractNegotiation:
    return ContractNegotiation(
        id=row.id,
        role=Role(row.role),
        state=State(row.state),
        consumer_pid=row.consumer_pid,
        provider_pid=row.provider_pid,
        counterparty_did=row.counterparty_did,
        counterparty_address=row.counterparty_address,
        dataset_id=row.dataset_id,
        offer=json.loads(row.offer),
        agreement=json.loads(row.agreement) if row.agreement is not None else None,
        created_at=aware(row.created_at),  # type: ignore[arg-type]
        updated_at=aware(row.updated_at),  # type: ignore[arg-type]
        version=row.version,
        last_message=MessageKind(row.last_message) if row.last_message else None,
        last_sender=Role(row.last_sender) if row.last_sender else None,
        last_digest=row.last_digest,
    )


def _outbox_values(m: OutboxMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "negotiation_id": m.negotiation_id,
        "kind": m.kind.value,
        "recipient": m.recipient,
        "payload": json_text(m.payload),
        "created_at": m.created_at,
        "next_attempt_at": m.next_attempt_at,
        "attempts": m.attempts,
        "lease_owner": m.lease_owner,
        "lease_until": m.lease_until,
        "done_at": m.done_at,
        "last_error": m.last_error,
        "audience": m.audience,
    }


def _outbox(row: sa.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        negotiation_id=row.negotiation_id,
        kind=MessageKind(row.kind),
        recipient=row.recipient,
        payload=json.loads(row.payload),
        created_at=aware(row.created_at),  # type: ignore[arg-type]
        next_attempt_at=aware(row.next_attempt_at),  # type: ignore[arg-type]
        attempts=row.attempts,
        lease_owner=row.lease_owner,
        lease_until=aware(row.lease_until),
        done_at=aware(row.done_at),
        last_error=row.last_error,
        audience=row.audience,
    )


# The statements of the hot path, built once with bound parameters: building one costs
# SQLAlchemy about 150 µs a call, more than SQLite takes to run it.
_T, _O = negotiations.c, negotiation_outbox.c
_CREATE = negotiations.insert()
_QUEUE = negotiation_outbox.insert()
_GET = negotiations.select().where(_T.id == sa.bindparam("key"))
_FIND = negotiations.select().where(
    _T.role == sa.bindparam("key_role"),
    _T.counterparty_pid == sa.bindparam("key_pid"),
    _T.counterparty_did == sa.bindparam("key_did"),
)
# a sender may only touch a message it still holds
_HELD = sa.and_(_O.id == sa.bindparam("key"), _O.lease_owner == sa.bindparam("owner"), _O.done_at.is_(None))
_COMPLETE = negotiation_outbox.update().where(_HELD).values(
    done_at=sa.bindparam("done_at"), lease_owner=None, lease_until=None
)
_RETRY = negotiation_outbox.update().where(_HELD).values(
    attempts=_O.attempts + 1, next_attempt_at=sa.bindparam("next_attempt_at"),
    last_error=sa.bindparam("last_error"), lease_owner=None, lease_until=None,
)
# The conditional UPDATE is the compare-and-set: of two racing writers, one matches. A
# negotiation's identity and birth never change.
_SAVE = (
    negotiations.update()
    .where(
        negotiations.c.id == sa.bindparam("expected_id"),
        negotiations.c.version == sa.bindparam("expected_version"),
    )
    .values({c.name: sa.bindparam(c.name) for c in negotiations.c if c.name not in ("id", "created_at")})
)


class _Stale(Exception):
    """Rolls the transaction back when the compare-and-set matched no row."""


class SqlNegotiationStore:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def _insert_outbox(
        self, connection: AsyncConnection, outbox: Sequence[OutboxMessage]
    ) -> None:
        if outbox:
            await connection.execute(_QUEUE, [_outbox_values(m) for m in outbox])

    async def create(
        self, negotiation: ContractNegotiation, outbox: Sequence[OutboxMessage] = ()
    ) -> bool:
        try:
            async with self._engine.begin() as connection:
                await connection.execute(_CREATE, _negotiation_values(negotiation))
                await self._insert_outbox(connection, outbox)
        except IntegrityError:
            return False
        return True

    async def _one(self, query: sa.Executable, parameters: dict[str, Any]) -> ContractNegotiation | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(query, parameters)).first()
        return _negotiation(row) if row else None

    async def get(self, negotiation_id: str) -> ContractNegotiation | None:
        return await self._one(_GET, {"key": negotiation_id})

    async def find(
        self, role: Role, counterparty_pid: str, counterparty_did: str
    ) -> ContractNegotiation | None:
        return await self._one(
            _FIND, {"key_role": role.value, "key_pid": counterparty_pid, "key_did": counterparty_did}
        )

    async def by_agreement(
        self, agreement_id: str, counterparty_did: str | None = None
    ) -> ContractNegotiation | None:
        query = negotiations.select().where(_T.agreement_id == agreement_id)
        if counterparty_did is not None:
            query = query.where(_T.counterparty_did == counterparty_did)
        return await self._one(query, {})

    async def save(
        self, negotiation: ContractNegotiation, outbox: Sequence[OutboxMessage] = ()
    ) -> bool:
        values = _negotiation_values(negotiation)
        # not in SET: a parent key in SET makes SQLite check the outbox's references by a scan
        del values["id"], values["created_at"]
        values["expected_id"], values["expected_version"] = negotiation.id, negotiation.version - 1
        try:
            async with self._engine.begin() as connection:
                if (await connection.execute(_SAVE, values)).rowcount != 1:
                    raise _Stale
                await self._insert_outbox(connection, outbox)
        except (_Stale, IntegrityError):
            return False
        return True

    async def list(
        self,
        state: State | None = None,
        role: Role | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ContractNegotiation]:
        query = negotiations.select()
        if state is not None:
            query = query.where(negotiations.c.state == state.value)
        if role is not None:
            query = query.where(negotiations.c.role == role.value)
        query = query.order_by(negotiations.c.created_at.desc(), negotiations.c.id.desc())
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query.limit(limit).offset(offset))).all()
        return [_negotiation(row) for row in rows]

    def _claimable(self, now: datetime) -> sa.ColumnElement[bool]:
        t = negotiation_outbox.c
        return sa.and_(
            t.done_at.is_(None),
            t.next_attempt_at <= now,
            sa.or_(t.lease_until.is_(None), t.lease_until <= now),
        )

    async def claim(
        self, owner: str, now: datetime, lease: timedelta, limit: int = 10
    ) -> builtins.list[OutboxMessage]:
        t = negotiation_outbox.c
        candidates = (
            sa.select(t.id)
            .where(self._claimable(now))
            .order_by(t.next_attempt_at, t.created_at, t.id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            ids = [row.id for row in (await connection.execute(candidates)).all()]
        claimed: builtins.list[str] = []
        for message_id in ids:
            # each claim is its own conditional UPDATE (re-checked under the row lock), so two
            # claimers that saw the same candidate cannot both take it; SQLite never holds a
            # read snapshot before the write, which would fail under concurrency
            take = (
                negotiation_outbox.update()
                .where(t.id == message_id, self._claimable(now))
                .values(lease_owner=owner, lease_until=now + lease)
            )
            async with self._engine.begin() as connection:
                if (await connection.execute(take)).rowcount == 1:
                    claimed.append(message_id)
        if not claimed:
            return []
        query = (
            negotiation_outbox.select()
            .where(t.id.in_(claimed))
            .order_by(t.next_attempt_at, t.created_at, t.id)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_outbox(row) for row in rows]

    async def _update_leased(self, query: sa.Executable, parameters: dict[str, Any]) -> bool:
        async with self._engine.begin() as connection:
            return (await connection.execute(query, parameters)).rowcount == 1

    async def complete(self, message_id: str, owner: str, now: datetime) -> bool:
        return await self._update_leased(_COMPLETE, {"key": message_id, "owner": owner, "done_at": now})

    async def retry(
        self, message_id: str, owner: str, next_attempt_at: datetime, error: str
    ) -> bool:
        return await self._update_leased(
            _RETRY,
            {"key": message_id, "owner": owner, "next_attempt_at": next_attempt_at, "last_error": error},
        )
