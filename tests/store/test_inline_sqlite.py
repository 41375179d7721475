"""SQLite run in line on the event loop, on one held connection."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import InvalidRequestError

from connector.storage.inline import InlineEngine

ROWS = sa.table("rows", sa.column("n"))


@pytest.fixture
async def engine(tmp_path):
    engine = InlineEngine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    async with engine.begin() as connection:
        await connection.execute(sa.text("CREATE TABLE rows (n INTEGER PRIMARY KEY)"))
    yield engine
    await engine.dispose()


async def count(engine: InlineEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(sa.select(sa.func.count()).select_from(ROWS))).scalar_one()


async def test_a_transaction_commits_whole_or_not_at_all(engine):
    async with engine.begin() as connection:
        await connection.execute(ROWS.insert(), [{"n": 1}, {"n": 2}])
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(ROWS.insert(), {"n": 3})
            await connection.execute(ROWS.insert(), {"n": 1})  # taken: all of it rolls back
    assert await count(engine) == 2
    async with engine.begin() as connection:  # the connection is usable after the failure
        await connection.execute(ROWS.insert(), {"n": 3})
    assert await count(engine) == 3


async def test_a_read_leaves_no_transaction_behind(engine):
    for n in range(3):
        assert await count(engine) == n  # a read, then a write: begin() would refuse an open one
        async with engine.begin() as connection:
            await connection.execute(ROWS.insert(), {"n": n})


async def test_a_transaction_inside_another_is_refused_at_once(engine):
    async with engine.begin():
        with pytest.raises(InvalidRequestError):
            async with engine.begin():
                pass
        with pytest.raises(RuntimeError):
            async with engine.connect():
                pass


async def test_after_dispose_the_engine_opens_a_new_connection(engine):
    async with engine.begin() as connection:
        await connection.execute(ROWS.insert(), {"n": 1})
    await engine.dispose()
    assert await count(engine) == 1
