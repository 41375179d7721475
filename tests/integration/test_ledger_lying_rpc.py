"""A node reading the ledger through a lying RPC: a proxy in front of a real validator alters
its answers. The node computes every answer it uses from store values proven against signed
headers, so a forged answer changes nothing, and a forged value, proof or header is refused."""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connector.errors import ConnectorError, Reason
from connector.ledger.proven import ProvenLedger, load_genesis
from connector.ledger.registry import RegistryView
from tests.integration.ledgered import one_validator

MEMBER = "did:web:127.0.0.1%3A9999"
STRANGER = "did:web:127.0.0.1%3A9998"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    with one_validator(tmp_path_factory.mktemp("ledger"),
                       "--member", f"{MEMBER}=http://127.0.0.1:9999") as (home, rpc):
        yield rpc, load_genesis(home / "genesis.json")


def _liar(upstream: str, alter) -> web.Application:
    """A JSON-RPC proxy that passes each answer through ALTER(method, params, result)."""
    async def forward(request: web.Request) -> web.Response:
        body = await request.json()
        async with aiohttp.ClientSession() as http, http.post(upstream, json=body) as r:
            doc = await r.json(content_type=None)
        for call, answer in zip(body if isinstance(body, list) else [body],
                                doc if isinstance(doc, list) else [doc], strict=True):
            if "result" in answer:
                alter(call["method"], call.get("params") or {}, answer["result"])
        return web.json_response(doc)

    app = web.Application()
    app.router.add_post("/", forward)
    return app


def _query_path(params: dict) -> str:
    return params.get("path", "")


def _forge_membership(method, params, result):
    """Says the stranger is a member in good standing, as a registry answer."""
    if method == "abci_query" and _query_path(params) == "/registry/member":
        forged = {"did": STRANGER, "status": "member", "account": "com1x", "endpoint": "x",
                  "sd_hash": "00" * 32, "since": {"height": 1, "time": 0}}
        result["response"].update(code=0, value=base64.b64encode(json.dumps(forged).encode()).decode())


def _forge_store_value(method, params, result):
    """Changes the member's stored record, keeping the proof."""
    if method == "abci_query" and _query_path(params) == "/store" and result["response"].get("value"):
        raw = bytearray(base64.b64decode(result["response"]["value"]))
        raw[-1] ^= 1
        result["response"]["value"] = base64.b64encode(bytes(raw)).decode()


def _forge_header(method, params, result):
    """Changes the app hash of every signed header it serves."""
    if method == "commit":
        result["signed_header"]["header"]["app_hash"] = "AB" * 32


async def _through(app: web.Application, genesis, did: str) -> bool:
    async with TestServer(app, host="127.0.0.1") as server:
        ledger = ProvenLedger(str(server.make_url("")).rstrip("/"), genesis, timeout=5)
        try:
            return await RegistryView(ledger).is_member(did)
        finally:
            await ledger.close()


async def test_an_honest_rpc_is_believed(chain):
    rpc, genesis = chain
    honest = _liar(rpc, lambda *_: None)
    assert await _through(honest, genesis, MEMBER) is True
    assert await _through(honest, genesis, STRANGER) is False


async def test_a_forged_answer_changes_nothing(chain):
    rpc, genesis = chain
    assert await _through(_liar(rpc, _forge_membership), genesis, STRANGER) is False
    assert await _through(_liar(rpc, _forge_membership), genesis, MEMBER) is True


@pytest.mark.parametrize("forge", [_forge_store_value, _forge_header])
async def test_a_forged_value_or_header_is_refused(chain, forge):
    rpc, genesis = chain
    with pytest.raises(ConnectorError) as refused:
        await _through(_liar(rpc, forge), genesis, MEMBER)
    assert refused.value.reason is Reason.UNAVAILABLE and "does not verify" in str(refused.value)
