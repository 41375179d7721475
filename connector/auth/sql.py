"""The used-jti store on SQLAlchemy (SQLite or PostgreSQL): replays are refused across restarts.

The primary key makes recording atomic on every backend: two concurrent inserts of the same
key cannot both succeed, and an expired entry is taken over by a conditional UPDATE that only
one writer can win.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from connector.storage.database import Database
from connector.storage.metadata import metadata

used_jtis = sa.Table(
    "auth_used_jtis",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),  # sha256 hex of (issuer, jti)
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
)


_INSERT = used_jtis.insert()


class SqlJtiStore:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def record(self, key: str, expires_at: datetime, now: datetime) -> bool:
        try:
            async with self._engine.begin() as connection:
                # a constant statement with parameters: built and compiled once
                await connection.execute(_INSERT, {"key": key, "expires_at": expires_at})
            return True
        except IntegrityError:
            pass
        takeover = (
            used_jtis.update()
            .where(used_jtis.c.key == key, used_jtis.c.expires_at <= _utc(now))
            .values(expires_at=expires_at)
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(takeover)
        return result.rowcount == 1

    async def prune(self, now: datetime) -> int:
        async with self._engine.begin() as connection:
            result = await connection.execute(used_jtis.delete().where(used_jtis.c.expires_at <= _utc(now)))
        return result.rowcount


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
