"""The credential store on SQLAlchemy (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from connector.credentials.model import Format, Role, StoredCredential
from connector.storage.database import Database
from connector.storage.metadata import metadata
from connector.storage.values import aware

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("id", sa.String(512), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("issuer", sa.String(512), nullable=False),
    sa.Column("subject", sa.String(512), nullable=True),
    sa.Column("types", sa.Text(), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("document", sa.Text(), nullable=False),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_credentials_role_stored_at", "role", "stored_at"),  # list(): by role, newest first
)


def _row_id(credential_id: str, role: Role) -> str:
    # one table for both roles: a node may hold a credential it also issued (self-issued)
    return f"{role.value}:{credential_id}"


def _from_row(row: sa.Row) -> StoredCredential:
    issued_at = aware(row.issued_at)
    assert issued_at is not None
    return StoredCredential(
        id=row.id.split(":", 1)[1],
        role=Role(row.role),
        format=Format(row.format),
        issuer=row.issuer,
        subject=row.subject,
        types=tuple(json.loads(row.types)),
        issued_at=issued_at,
        expires_at=aware(row.expires_at),
        document=row.document,
    )


class SqlCredentialStore:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def add(self, credential: StoredCredential) -> bool:
        values = {
            "id": _row_id(credential.id, credential.role),
            "role": credential.role.value,
            "format": credential.format.value,
            "issuer": credential.issuer,
            "subject": credential.subject,
            "types": json.dumps(list(credential.types)),
            "issued_at": credential.issued_at,
            "expires_at": credential.expires_at,
            "document": credential.document,
            "stored_at": datetime.now(UTC),
        }
        try:
            async with self._engine.begin() as connection:
                await connection.execute(credentials.insert().values(**values))
        except IntegrityError:
            return False
        return True

    async def get(self, credential_id: str, role: Role) -> StoredCredential | None:
        query = credentials.select().where(credentials.c.id == _row_id(credential_id, role))
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return _from_row(row) if row else None

    async def list(
        self, role: Role | None = None, type_: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[StoredCredential]:
        query = credentials.select()
        if role is not None:
            query = query.where(credentials.c.role == role.value)
        if type_ is not None:
            query = query.where(credentials.c.types.contains(json.dumps(type_)))
        query = query.order_by(credentials.c.stored_at.desc(), credentials.c.id.desc())
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query.limit(limit).offset(offset))).all()
        return [_from_row(row) for row in rows]

    async def delete(self, credential_id: str, role: Role) -> bool:
        query = credentials.delete().where(credentials.c.id == _row_id(credential_id, role))
        async with self._engine.begin() as connection:
            result = await connection.execute(query)
        return result.rowcount > 0
