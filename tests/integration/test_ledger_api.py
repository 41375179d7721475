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
