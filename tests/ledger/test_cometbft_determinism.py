"""One application, two engines: the blocks CometBFT decided, run through the application in
process, give the app hashes CometBFT's headers carry; the blocks our engine decided, run
through the application over the ABCI socket, give the app hashes our headers carry."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

import pytest

from ledger import keys
from ledger.app import client
from ledger.app.app import LedgerApp
from ledger.app.store import VersionedStore
from ledger.cometbft.client import AbciClient
from ledger.cometbft.pb.tendermint.abci import types_pb2 as pb
from ledger.cometbft.server import AbciServer
from ledger.crypto import PrivateKey
from ledger.node import Node, NodeConfig, load_genesis
from ledger.rpc import RpcClient
from tests.ledger.cometnet import CometNet
from tests.ledger.homes import single_validator
from tests.ledger.replay import block_requests, finalize_pb, init_pb, init_request

TO = keys.address_text(PrivateKey.from_secret(b"determinism"))
SENDS = 6


def _sends(home: Path) -> list[bytes]:
    key = keys.load_account_key(keys.account_key_path(home))
    chain_id = load_genesis(home).chain_id
    return [client.send(key, chain_id, seq, TO, 1 + seq) for seq in range(SENDS)]


async def _cometbft_run(root: Path, blocks: int) -> tuple[Path, RpcClient, CometNet]:
    net = CometNet(root, 1)
    toml = net.home(0) / "cometbft" / "config" / "config.toml"
    toml.write_text(toml.read_text().replace('timeout_commit = "200ms"',
                                             'timeout_commit = "20ms"'))
    net.start_all()
    net.wait([0], 1, timeout=30)
    for tx in _sends(net.home(0)):
        url = f"http://127.0.0.1:{net.rpc_port(0)}/broadcast_tx_sync?tx=0x{tx.hex()}"
        with urllib.request.urlopen(url, timeout=10):
            pass
    net.wait([0], blocks + 1, timeout=120)
    return net.home(0), RpcClient(f"http://127.0.0.1:{net.rpc_port(0)}"), net


async def _check_in_process(home: Path, c: RpcClient, blocks: int) -> int:
    reqs, want = await block_requests(c, blocks)
    app = LedgerApp(VersionedStore.open(None))
    app.init_chain(init_request(home))
    txs = 0
    for req, expected in zip(reqs, want, strict=True):
        assert app.finalize_block(req).app_hash == expected, f"height {req.height}"
        app.commit()
        txs += len(req.txs)
    return txs


async def _check_over_socket(home: Path, c: RpcClient, blocks: int, sock: Path) -> int:
    reqs, want = await block_requests(c, blocks)
    server = AbciServer(LedgerApp(VersionedStore.open(None)))
    abci = await AbciClient.connect(await server.start(f"unix://{sock}"))
    try:
        await abci.call(init_pb(init_request(home)))
        txs = 0
        for req, expected in zip(reqs, want, strict=True):
            res = await abci.call(finalize_pb(req))
            assert res.finalize_block.app_hash == expected, f"height {req.height}"
            assert all(r.code == 0 for r in res.finalize_block.tx_results)
            await abci.call(pb.Request(commit=pb.RequestCommit()))
            txs += len(req.txs)
        return txs
    finally:
        await abci.close()
        await server.close()


async def _both_engines(tmp_path: Path, blocks: int) -> None:
    home, c, net = await _cometbft_run(tmp_path / "cometbft", blocks)
    try:
        async with c:
            assert await _check_in_process(home, c, blocks) == SENDS
    finally:
        net.stop_all()

    home = single_validator(tmp_path / "ours", app="ledger")
    cfg = NodeConfig.load(home)
    cfg.timeouts["commit"] = 20
    cfg.save(home)
    node = Node(home)
    await node.start()
    try:
        for tx in _sends(home):
            assert (await node.submit_tx(tx))["ok"]
        deadline = time.monotonic() + 120
        async with RpcClient(node.rpc.url) as c:
            while (await c.status())["height"] < blocks + 1:
                assert time.monotonic() < deadline, "our engine did not reach the height"
                await asyncio.sleep(0.1)
            assert await _check_over_socket(home, c, blocks, tmp_path / "app.sock") == SENDS
    finally:
        await node.stop()


async def test_the_same_blocks_give_the_same_app_hashes_under_both_engines(
        tmp_path: Path) -> None:
    await _both_engines(tmp_path, 12)


@pytest.mark.slow
async def test_the_same_100_blocks_give_the_same_app_hashes_under_both_engines(
        tmp_path: Path) -> None:
    await _both_engines(tmp_path, 100)
