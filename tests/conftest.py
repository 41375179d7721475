"""Shared fixtures: real databases (SQLite in a temp folder, PostgreSQL when configured), and
real HTTP servers on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from connector.storage.database import Database

POSTGRES_URL = os.environ.get("COMMUNS_TEST_POSTGRES")  # e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test


def pytest_sessionstart(session: pytest.Session) -> None:
    """A PostgreSQL that was asked for but does not answer stops the run at once, naming it,
    instead of every PostgreSQL test waiting out its own connection timeout."""
    if POSTGRES_URL and not session.config.option.collectonly:
        import asyncio

        import asyncpg

        async def reach() -> None:
            connection = await asyncpg.connect(_asyncpg_url(), timeout=5)
            await connection.close()

        try:
            asyncio.run(reach())
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            pytest.exit(f"PostgreSQL (COMMUNS_TEST_POSTGRES={POSTGRES_URL}) cannot be reached: {exc}; "
                        "start it (.ci/services.sh does) or unset COMMUNS_TEST_POSTGRES", returncode=3)


def _asyncpg_url() -> str:
    assert POSTGRES_URL
    return POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")


def database_backends() -> list:
    return [
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    not POSTGRES_URL, reason="set COMMUNS_TEST_POSTGRES to run the PostgreSQL variant"
                ),
            ],
        ),
    ]


@asynccontextmanager
async def open_test_database(kind: str, folder: Path) -> AsyncIterator[Database]:
    """A migrated, empty database of that kind; PostgreSQL gets a schema of its own."""
    if kind == "sqlite":
        db = await Database.open(f"sqlite+aiosqlite:///{folder / 'test.db'}")
        try:
            yield db
        finally:
            await db.close()
        return
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_url())
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        db = await Database.open(
            POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}}
        )
        try:
            yield db
        finally:
            await db.close()
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


@pytest.fixture(params=database_backends())
async def database(request, tmp_path) -> AsyncIterator[Database]:
    async with open_test_database(request.param, tmp_path) as db:
        yield db


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """APP served on a free loopback port, as its base URL (http://127.0.0.1:PORT)."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
