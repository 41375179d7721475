"""Proven reads through real CometBFT v0.38 validators: the light client hashes CometBFT's
headers and validator sets and rebuilds its votes' sign bytes as CometBFT does, so
`--prove` verifies on a CometBFT home and the connector's ProvenLedger reads through its RPC
unchanged; a proxy that alters a header, a value, a signature or the validator set is
refused."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import ClientSession, web

from connector.ledger.proven import ProvenLedger
from ledger import keys
from ledger.app import client
from ledger.cli import main as cli
from ledger.cometbft import light as comet
from ledger.crypto import PrivateKey
from ledger.light import LightClient, VerificationError
from ledger.node import load_genesis
from ledger.rpc import RpcClient
from tests.ledger.cometnet import CometNet, tx_result
from tests.nodes import free_port

DID = "did:web:members.example:cometbft"
SD_HASH = "ab" * 32
FAKE = PrivateKey.from_secret(b"a validator of another chain")


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CometNet]:
    n = CometNet(tmp_path_factory.mktemp("cometprove"), 4)
    n.start_all()
    try:
        n.wait(list(range(4)), 2, timeout=40)
        yield n
    finally:
        n.stop_all()


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    capsys.readouterr()
    code = cli(["ledger", *argv, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return dict(json.loads(out.out))


def _cli_proves(net: CometNet, capsys: pytest.CaptureFixture[str]) -> None:
    home = net.home(2)
    chain_id = net.get(0, "/status")["node_info"]["network"]
    sender = keys.load_account_key(keys.account_key_path(net.home(0)))
    me = keys.address_text(sender)
    r = net.broadcast_tx_commit(0, client.send(sender, chain_id, 0, keys.address_text(
        keys.load_account_key(keys.account_key_path(net.home(1)))), 1234))
    assert tx_result(r) == (0, ""), r
    bal = _cli_json(capsys, "bank", "balance", me, "--prove", "--dir", str(home))
    assert bal["verified"]["block"] == bal["height"] + 1
    assert bal["verified"]["signed_power"] * 3 > bal["verified"]["total_power"] * 2
    header = net.get(2, f"/commit?height={bal['height'] + 1}")["signed_header"]["header"]
    assert bal["verified"]["app_hash"] == header["app_hash"].lower()
    # a member, applied through CometBFT by our CLI, read back proven
    applied = _cli_json(capsys, "registry", "apply", DID, "https://members.example/dsp",
                        SD_HASH, "--dir", str(net.home(3)))
    assert applied["code"] == 0, applied
    net.wait([2], int(applied["height"]) + 1)
    member = _cli_json(capsys, "registry", "member", DID, "--prove", "--dir", str(home))
    assert member["did"] == DID and member["height"] >= int(applied["height"])
    assert "verified" in member
    capsys.readouterr()
    assert cli(["ledger", "registry", "member", DID, "--prove", "--dir", str(home)]) == 0
    assert "verified against the app hash of block " in capsys.readouterr().out


def _connector_proves(net: CometNet) -> None:
    genesis = load_genesis(net.home(0))
    who = keys.address_text(keys.load_account_key(keys.account_key_path(net.home(1))))

    async def go() -> tuple[Any, str, str | None]:
        ledger = ProvenLedger(f"http://127.0.0.1:{net.rpc_port(1)}", genesis)
        try:
            height = await ledger.refresh()
            answer = await ledger.read("/bank/balance", who.encode(), height)
            return answer.doc, answer.proof, ledger.light.engine
        finally:
            await ledger.close()

    doc, proof, engine = asyncio.run(go())
    assert engine == "cometbft"
    assert doc["balance"] > 0
    assert proof.startswith("verified against the app hash of block ")


def _foreign(method: str, result: dict[str, Any], chain_id: str) -> None:
    """A whole consistent block signed by a validator set of its own, not the genesis one."""
    if method == "validators":
        result["validators"] = [{"address": FAKE.address.hex().upper(), "voting_power": "10",
                                 "proposer_priority": "0", "pub_key": {
                                     "type": "tendermint/PubKeyEd25519",
                                     "value": base64.b64encode(FAKE.pub_key).decode()}}]
        result["count"] = result["total"] = "1"
    if method == "commit":
        sh = result["signed_header"]
        sh["header"]["validators_hash"] = comet.validators_hash([(FAKE.pub_key, 10)]).hex()
        sh["header"]["app_hash"] = "AB" * 32
        header = comet.Header.from_json(sh["header"])
        commit = sh["commit"]
        commit["block_id"]["hash"] = header.hash().hex().upper()
        t = sh["header"]["time"]
        signed = comet.vote_sign_bytes(chain_id, comet.PRECOMMIT, header.height, 0,
                                       comet.BlockID.from_json(commit["block_id"]),
                                       comet.parse_time(t))
        commit["round"] = 0
        commit["signatures"] = [{"block_id_flag": 2, "timestamp": t,
                                 "validator_address": FAKE.address.hex().upper(),
                                 "signature": base64.b64encode(FAKE.sign(signed)).decode()}]


def _tamper(method: str, result: dict[str, Any], mode: str, chain_id: str) -> None:
    if mode == "foreign":
        _foreign(method, result, chain_id)
    if method == "status" and mode == "says-ours":
        result["node_info"]["version"] = "0.38.0+communs"
    if method == "commit":
        sh = result["signed_header"]
        if mode == "header":
            sh["header"]["app_hash"] = "AB" * 32
        if mode == "signature":
            sig = next(s for s in sh["commit"]["signatures"] if s["signature"])
            raw = bytearray(base64.b64decode(sig["signature"]))
            raw[5] ^= 1
            sig["signature"] = base64.b64encode(bytes(raw)).decode()
        if mode == "timestamp":  # a signature moved to another time signs other bytes
            sig = next(s for s in sh["commit"]["signatures"] if s["signature"])
            t = sig["timestamp"]
            sig["timestamp"] = t[:-2] + ("8" if t[-2] == "9" else "9") + "Z"  # 1 ns, or 1 s
    if method == "validators" and mode == "validators":
        result["validators"][0]["voting_power"] = str(int(result["validators"][0]
                                                          ["voting_power"]) + 1)


async def _proxy(target: str, state: dict[str, str], chain_id: str) -> web.AppRunner:
    session = ClientSession()

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        mode = state["mode"]
        async with session.post(target, json=body) as r:
            doc = await r.json()
        res = doc.get("result")
        if res and body["method"] == "abci_query":
            resp, params = res["response"], body.get("params") or {}
            if mode == "value" and params.get("path") == "/bank/balance":
                v = json.loads(base64.b64decode(resp["value"]))
                v["balance"] += 1
                resp["value"] = base64.b64encode(json.dumps(v).encode()).decode()
            if mode == "store-value" and params.get("path") == "/store" and resp["value"]:
                resp["value"] = base64.b64encode(b"\x01forged").decode()
        elif res:
            _tamper(body["method"], res, mode, chain_id)
        return web.json_response(doc)

    app = web.Application()
    app.router.add_post("/", handle)
    app.on_cleanup.append(lambda _: session.close())
    runner = web.AppRunner(app)
    await runner.setup()
    return runner


def _forgeries_refused(net: CometNet) -> None:
    genesis = load_genesis(net.home(0))
    who = keys.address_text(keys.load_account_key(keys.account_key_path(net.home(0)))).encode()
    modes = ("", "header", "signature", "timestamp", "validators", "value", "store-value",
             "says-ours", "foreign")

    async def go() -> dict[str, str]:
        state = {"mode": ""}
        runner = await _proxy(f"http://127.0.0.1:{net.rpc_port(0)}/", state, genesis.chain_id)
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        outcomes = {}
        try:
            async with RpcClient(f"http://127.0.0.1:{port}", timeout=20) as c:
                r = await c.query("/bank/balance", who)
                height = r["height"]
                for mode in modes:
                    state["mode"] = mode
                    r = await c.query("/bank/balance", who, height)
                    value = base64.b64decode(r["value"])
                    try:  # a new client each time: nothing verified earlier is remembered
                        v = await LightClient(c, genesis).verify("/bank/balance", who, height,
                                                                 value)
                        outcomes[mode] = v.sentence()
                    except VerificationError as e:
                        outcomes[mode] = f"refused: {e}"
        finally:
            await runner.cleanup()
        return outcomes

    got = asyncio.run(go())
    assert got[""].startswith("verified against the app hash of block "), got[""]
    assert got[""].endswith(" of 40 voting power"), got[""]
    assert "does not hash to the block hash its commit signs" in got["header"], got["header"]
    assert got["signature"].endswith("does not verify: bad signature in commit"), got
    assert got["timestamp"].endswith("does not verify: bad signature in commit"), got
    assert "is not the one its header names" in got["validators"], got["validators"]
    assert got["value"].startswith("refused: the node's answer differs from the proven state")
    assert got["store-value"].startswith("refused: the value of store key "), got
    assert "does not hash to the block hash its commit signs" in got["says-ours"], got
    assert "is not linked to the trusted one" in got["foreign"], got["foreign"]


def test_proven_reads_through_four_cometbft_validators(
        net: CometNet, capsys: pytest.CaptureFixture[str]) -> None:
    # one test over one network: split across xdist workers, each would start its own
    _cli_proves(net, capsys)
    _connector_proves(net)
    _forgeries_refused(net)
