"""The node's database: SQLite (WAL) by default, PostgreSQL by URL, migrated by alembic on open."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connector.errors import ConnectorError, Reason
from connector.storage.inline import InlineEngine

MIGRATIONS = Path(__file__).with_name("migrations")
_SCHEMA_VERSION = "SELECT version_num FROM alembic_version"  # a real table, not just SELECT 1
_SQLITE_MAGIC = b"SQLite format 3\x00"


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


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


class Database:
    def __init__(self, url: str, **engine_options: object) -> None:
        self.url = url
        self.file = sqlite_file(url)
        self._opened: tuple[int, int] | None = None  # the SQLite file's (device, inode) at open
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
        if database.file is not None:
            opened = database.file.stat()
            database._opened = (opened.st_dev, opened.st_ino)
        return database

    async def problem(self, timeout: float = 1.0) -> str | None:
        """Why the database cannot serve now, in one sentence; None when it can.

        A query on the schema's own table through the connection requests use; for SQLite also
        the file itself: deleted, replaced or corrupted under a running node, the open connection
        keeps answering (from the unlinked file, from its cache) until a restart finds nothing."""
        try:
            async with asyncio.timeout(timeout):
                async with self.engine.connect() as connection:
                    await connection.execute(text(_SCHEMA_VERSION))
                if self.file is not None:
                    return await asyncio.to_thread(self._file_problem, timeout)
        except TimeoutError:
            return f"the database did not answer within {timeout:g} s"
        except (SQLAlchemyError, OSError) as exc:
            return f"the database does not answer ({type(exc).__name__})"
        return None

    def _file_problem(self, timeout: float) -> str | None:
        assert self.file is not None
        name = self.file.name  # not the path: readiness is public
        try:
            found = self.file.stat()
        except FileNotFoundError:
            return f"the database file {name} is missing"
        if (found.st_dev, found.st_ino) != self._opened:
            return f"the database file {name} was replaced while the node runs"
        # pages the write-ahead log holds are read from there, so the header is checked itself
        with self.file.open("rb") as header:
            if found.st_size and header.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                return f"the database file {name} is not an SQLite database any more (corrupt)"
        try:  # a connection of its own, read-only: what a restart would find
            with closing(sqlite3.connect(f"{self.file.as_uri()}?mode=ro", uri=True, timeout=timeout)) as fresh:
                fresh.execute(_SCHEMA_VERSION).fetchone()
        except sqlite3.Error as exc:
            return f"the database file {name} is unreadable ({exc})"
        return None

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
