"""`communs serve` with [ledger] node: the organization's validator runs as a child of the
connector, its health in /health/ready and its height in /metrics; killed, it is started again;
the connector stopping stops it."""

from __future__ import annotations

import dataclasses
import os
import signal

import pytest

from connector.cli.main import main
from connector.config import load, save
from connector.ledger.config import LedgerConfig
from connector.ledger.service import LEDGER
from ledger.node import NodeConfig
from tests.integration.ledgered import until
from tests.nodes import client, free_port, init_node, serving

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def folder(tmp_path):
    node = init_node(tmp_path / "node")
    assert main(["ledger", "init", "--validators", "1", "--dir", str(tmp_path / "ledger")]) == 0
    home = tmp_path / "ledger" / "node0"
    config = NodeConfig.load(home)
    config.p2p_port, config.rpc_port = free_port(), free_port()
    config.save(home)
    save(dataclasses.replace(load(node), ledger=LedgerConfig(
        rpc_url=config.rpc_url, genesis=str(home / "genesis.json"), node=str(home),
        poll_interval=0.1)))
    return node


async def _ready(http, node) -> bool:
    async with http.get(f"{node.public}/health/ready") as r:
        return r.status == 200 and (await r.json())["checks"]["ledger"]


async def _height(http, node) -> float:
    async with http.get(f"{node.public}/metrics") as r:
        lines = [x for x in (await r.text()).splitlines() if x.startswith("communs_ledger_height ")]
    return float(lines[0].split()[1])


async def test_the_validator_runs_as_a_supervised_child(folder):
    async with serving(folder) as node, client() as http:
        child = node.running.public_app[LEDGER].child
        await until("the ledger's readiness", lambda: _ready(http, node))
        await until("a proven height", lambda: _height(http, node))
        first = child.process.pid
        os.kill(first, signal.SIGKILL)
        await until("the dead child's report", lambda: _not_ready(http, node), timeout=10)
        await until("the restarted child", lambda: _ready(http, node), timeout=30)
        assert child.process.pid != first and child.restarts == 1
        last = child.process
    assert last.returncode is not None  # stopped with the connector


async def _not_ready(http, node) -> bool:
    return not await _ready(http, node)
