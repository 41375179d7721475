"""The light client believes a real validator's answers and refuses forged ones: a tampered
value, a proof for another key, a commit without +2/3, a validator set not linked to the
genesis one. A small aiohttp proxy in front of the validator's RPC alters the answers."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from aiohttp import ClientSession, web

from connector.cli.main import main
from ledger.consensus import views
from ledger.crypto import PrivateKey
from ledger.light import LightClient, VerificationError, header_from_json
from ledger.node import NodeConfig, load_genesis
from ledger.rpc import RpcClient
from ledger.types import PRECOMMIT, ValidatorSet, Vote
from ledger.types.commit import Commit, CommitSig
from tests.cli.test_ledger_bank_cli import start
from tests.nodes import free_port

FAKE = PrivateKey.from_secret(b"a validator of another chain")


def _forge(result: dict[str, Any], method: str, mode: str, chain_id: str) -> None:
    if method == "commit" and mode == "no-quorum":
        for s in result["signed_header"]["commit"]["signatures"]:
            s.update(block_id_flag=1, validator_address="", signature=None,
                     timestamp="0001-01-01T00:00:00Z")
    if mode == "foreign":
        fake = ValidatorSet.new([(FAKE.pub_key, 10)])
        if method == "validators":
            result["validators"] = views.validators_json(fake)
        elif method == "commit":
            sh = result["signed_header"]
            sh["header"]["validators_hash"] = fake.hash().hex().upper()
            sh["header"]["app_hash"] = "AB" * 32
            h = header_from_json(sh["header"])
            vote = Vote(PRECOMMIT, h.height, 0, h.hash(), h.time, FAKE.address, 0)
            sig = vote.signed(FAKE, chain_id).signature
            sh["commit"] = views.commit_json(Commit(h.height, 0, h.hash(), (
                CommitSig(2, FAKE.address, h.time, sig),)), None)


async def _proxy(target: str, state: dict[str, str], chain_id: str) -> web.AppRunner:
    session = ClientSession()

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        mode, params = state["mode"], body.get("params") or {}
        if mode == "other-key" and params.get("path") == "/store":
            asked = params["data"]
            params["data"] = b"supply".hex()
        async with session.post(target, json=body) as r:
            doc = await r.json()
        res = doc.get("result")
        if res and body["method"] == "abci_query":
            resp = res["response"]
            if mode == "value" and params.get("path") == "/bank/balance":
                v = json.loads(base64.b64decode(resp["value"]))
                v["balance"] += 1
                resp["value"] = base64.b64encode(json.dumps(v).encode()).decode()
            if mode == "store-value" and params.get("path") == "/store" and resp["value"]:
                resp["value"] = base64.b64encode(b"\x01forged").decode()
            if mode == "other-key" and params.get("path") == "/store":
                resp["proofOps"]["ops"][0]["key"] = base64.b64encode(
                    bytes.fromhex(asked)).decode()
        elif res:
            _forge(res, body["method"], mode, chain_id)
        return web.json_response(doc)

    app = web.Application()
    app.router.add_post("/", handle)
    app.on_cleanup.append(lambda _: session.close())
    runner = web.AppRunner(app)
    await runner.setup()
    return runner


@pytest.fixture
def node(tmp_path):
    assert main(["ledger", "init", "--validators", "1", "--dir", str(tmp_path)]) == 0
    home = tmp_path / "node0"
    process, log = start(home, tmp_path / "validator.log")
    try:
        yield home
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_answers_verify_and_forgeries_are_refused(node):
    genesis = load_genesis(node)
    account = json.loads((node / "genesis.json").read_text())["app_state"]["balances"]
    who = next(iter(account)).encode()

    async def go() -> dict[str, str]:
        state = {"mode": ""}
        runner = await _proxy(NodeConfig.load(node).rpc_url + "/", state, genesis.chain_id)
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        outcomes = {}
        try:
            for mode in ("", "value", "store-value", "other-key", "no-quorum", "foreign"):
                state["mode"] = mode
                async with RpcClient(f"http://127.0.0.1:{port}", timeout=20) as c:
                    r = await c.query("/bank/balance", who)
                    value = base64.b64decode(r["value"])
                    try:
                        v = await LightClient(c, genesis).verify("/bank/balance", who,
                                                                 r["height"], value)
                        outcomes[mode] = v.sentence()
                    except VerificationError as e:
                        outcomes[mode] = f"refused: {e}"
        finally:
            await runner.cleanup()
        return outcomes

    got = asyncio.run(go())
    assert got[""].startswith("verified against the app hash of block ")
    assert got[""].endswith(" signed by 10 of 10 voting power")
    assert got["value"].startswith("refused: the node's answer differs from the proven state")
    assert got["store-value"].startswith("refused: the value of store key ")
    assert "does not match its proof" in got["other-key"], got["other-key"]
    assert got["no-quorum"].endswith("does not verify: commit lacks +2/3 of the voting power")
    assert "is not linked to the trusted one" in got["foreign"], got["foreign"]


def test_prove_on_the_command_line(node, capsys):
    capsys.readouterr()
    assert main(["ledger", "query", "supply", "--prove", "--dir", str(node)]) == 0
    said = capsys.readouterr().out
    assert "verified against the app hash of block " in said
