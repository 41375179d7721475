"""The ledger's management API on a node without [ledger]: every route answers 404 with the
sentence that says what to set, and a bad [ledger] table is refused at load with its key."""

from __future__ import annotations

import pytest

from connector.config import load
from connector.errors import ConnectorError
from tests.nodes import client, init_node, serving

ROUTES = [("GET", "/api/v1/ledger"), ("GET", "/api/v1/ledger/members"),
          ("GET", "/api/v1/ledger/proposals"), ("GET", "/api/v1/ledger/value"),
          ("POST", "/api/v1/ledger/join"), ("GET", "/api/v1/ledger/audit/urn:uuid:x")]


@pytest.fixture
def folder(tmp_path):
    return init_node(tmp_path / "node")


async def test_a_node_without_a_ledger_says_so(folder):
    async with serving(folder) as node, client() as http:
        for method, path in ROUTES:
            async with http.request(method, node.management + path, json={},
                                    headers=node.auth) as r:
                assert r.status == 404, (path, await r.text())
                assert "[ledger] rpc_url" in (await r.json())["detail"]
        async with http.post(f"{node.management}/api/v1/ledger/proposals/1/votes", json={"option": 3},
                             headers=node.auth) as r:
            assert r.status == 400


@pytest.mark.parametrize("table, said", [
    ('rpc_url = "http://127.0.0.1:1"', "needs genesis"),
    ('rpc_url = "ftp://x"\ngenesis = "g.json"', "an http\\(s\\) URL"),
    ('genesis = "g.json"', "need rpc_url"),
    ('rpc_url = "http://127.0.0.1:1"\ngenesis = "g.json"\npoll_interval = 0', "above 0"),
    ('colour = "blue"', "unknown keys"),
])
def test_a_bad_ledger_table_is_refused_naming_what(folder, table, said):
    with (folder / "communs.toml").open("a") as f:
        f.write(f"\n[ledger]\n{table}\n")
    with pytest.raises(ConnectorError, match=said):
        load(folder)


async def test_membership_fails_closed_while_the_ledger_does_not_answer(folder, tmp_path):
    import asyncio
    import dataclasses

    from connector.ledger.config import LedgerConfig
    from connector.ledger.service import open_ledger
    from connector.node import open_keys
    from ledger.cli import main as ledger_cli
    from tests.nodes import free_port

    assert await asyncio.to_thread(ledger_cli, ["ledger", "init", "--validators", "1", "--dir",
                                                str(tmp_path / "chain"), "--json"]) == 0
    config = dataclasses.replace(load(folder), ledger=LedgerConfig(
        rpc_url=f"http://127.0.0.1:{free_port()}", genesis=str(tmp_path / "chain/node0/genesis.json"),
        poll_interval=0.05))
    async with open_ledger(config, open_keys(folder), "did:web:me.example") as service:
        await asyncio.sleep(0.3)
        assert service.stale and "does not answer" in (service.health() or "")
        assert await service.member_of("did:web:anyone.example") is False
        assert await service.anchor_of("did:web:issuer.example") is None
