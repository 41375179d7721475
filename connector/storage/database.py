"""The node's database: SQLite (WAL) by default, PostgreSQL by URL, migrated by alembic on open."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connector.errors import ConnectorError, Reason
from connector.storage.inline import InlineEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers run beside the writer; the busy timeout absorbs short write contention.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class Database:
    def __init__(self, url: str, **engine_options: object) -> None:
        self.url = url
        self.engine: AsyncEngine | InlineEngine = (
            InlineEngine(url, **engine_options) if url.startswith("sqlite+aiosqlite:")
            else create_async_engine(url, **engine_options)
        )
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    @classmethod
    async def open(cls, url: str, **engine_options: object) -> Database:
        """Connect and bring the schema to the latest migration."""
        database = cls(url, **engine_options)
        try:
            async with database.engine.begin() as connection:
                await connection.run_sync(_upgrade)
        except (SQLAlchemyError, OSError) as exc:
            await database.close()
            raise ConnectorError(Reason.STORAGE, f"cannot open the database {_redact(url)}: {exc}") from None
        return database

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except (SQLAlchemyError, OSError):
            return False

    async def close(self) -> None:
        await self.engine.dispose()


def _redact(url: str) -> str:
    """The URL without its password, so that errors and logs never carry a secret."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
