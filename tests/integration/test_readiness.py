"""A node's database lost or damaged under it: readiness says so, and a restart refuses to
start afresh unless told to."""

from __future__ import annotations

import os
import shutil

import pytest

from connector.app.health import READINESS
from connector.app.server import running_node
from connector.config import load
from connector.errors import ConnectorError
from tests.nodes import client, init_node, serving


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return init_node(tmp_path_factory.mktemp("made"))


@pytest.fixture
def folder(made, tmp_path):
    """A node of its own for each test (a copy: `communs init` is slow)."""
    return shutil.copytree(made, tmp_path / "node")


async def _ready(http, node) -> tuple[int, dict]:
    node.running.public_app[READINESS].ttl = 0  # no caching between the steps of a test
    async with http.get(f"{node.public}/health/ready") as response:
        return response.status, await response.json()


async def test_a_deleted_database_makes_the_node_unready_and_a_restart_refuse(folder):
    database = folder / "communs.db"
    async with serving(folder) as node, client() as http:
        assert await _ready(http, node) == (200, {"status": "ready", "checks": {"database": True}})
        database.unlink()
        status, body = await _ready(http, node)
        assert status == 503 and body["checks"] == {"database": False}
        assert body["reason"] == "the database file communs.db is missing"
    assert (folder / "sparql").is_dir()  # the node served: its folder shows it
    with pytest.raises(ConnectorError) as refused:
        async with running_node(load(folder)):
            pass
    assert "communs.db is missing" in str(refused.value) and "restore the file" in str(refused.value)
    assert "--new-database" in str(refused.value) and not database.exists()  # nothing created
    async with running_node(load(folder), new_database=True) as running:
        assert running.node.database.file == database and database.exists()


async def test_a_corrupted_or_replaced_database_makes_the_node_unready(folder):
    database = folder / "communs.db"
    async with serving(folder) as node, client() as http:
        readiness = node.running.public_app[READINESS]
        assert (await _ready(http, node))[0] == 200
        size = database.stat().st_size
        with database.open("r+b") as garbage:
            garbage.write(os.urandom(size))
        status, body = await _ready(http, node)
        assert status == 503 and "corrupt" in body["reason"]
        shutil.copy(folder / "communs.db", folder / "copy.db")
        os.replace(folder / "copy.db", database)
        status, body = await _ready(http, node)
        assert status == 503 and body["reason"] == "the database file communs.db was replaced while the node runs"
        readiness.ttl = 60  # a verdict is kept for a while: probes do not touch the disk each time
        await readiness.problem()
        database.unlink()
        assert await readiness.problem() == body["reason"]


async def test_a_node_only_initialised_refuses_a_lost_database(folder):
    (folder / "communs.db").unlink()
    assert not (folder / "sparql").exists() and not (folder / "data").exists()  # never served
    with pytest.raises(ConnectorError, match="holds this node's keys and communs.toml"):
        async with running_node(load(folder)):
            pass
    assert not (folder / "communs.db").exists()
