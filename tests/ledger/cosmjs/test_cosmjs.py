"""An unchanged CometBFT client reads our chain: CosmJS's @cosmjs/tendermint-rpc 0.39.0
(pinned in package.json, installed here with `npm ci`) connects to a real single-validator
node, submits a transaction and decodes status, block, block results, commit, validators,
tx, tx_search, abci_query and a NewBlock subscription over /websocket; we compare what it
decoded with the node's own records."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ledger.node import Node
from ledger.rpc import RpcClient
from tests.ledger.homes import single_validator

HERE = Path(__file__).parent
PINNED = "0.39.0"


def node_ready() -> str:
    """Node.js, with the pinned CosmJS installed (npm ci from the lock file when missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("the CosmJS check needs Node.js and npm on PATH "
                    "(Debian: apt-get install nodejs npm)")
    installed = HERE / "node_modules" / "@cosmjs" / "tendermint-rpc" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != PINNED:
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE,
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            pytest.fail(f"npm ci failed in {HERE}: {r.stderr.strip()[-1500:]}")
    return node


async def test_cosmjs_comet38_client_reads_the_chain(tmp_path: Path) -> None:
    node_bin = node_ready()
    node = Node(single_validator(tmp_path))
    await node.start()
    try:
        async with RpcClient(node.rpc.url, timeout=10) as c:
            ours = await c.broadcast_tx_commit(b"ours=1", timeout=10)
        assert ours["commit"] is not None and ours["commit"]["code"] == 0
        proc = await asyncio.create_subprocess_exec(
            node_bin, str(HERE / "check.js"), node.rpc.url, "cosmjs=hello",
            ours["check_tx"]["hash"], stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        got = json.loads(out)

        assert got["client"] == "Comet38Client"  # chosen from node_info.version
        h = got["tx"]["height"]
        block = node.blocks.block(h)
        assert block is not None
        assert got["status"]["network"] == node.genesis.chain_id
        assert got["status"]["height"] >= ours["commit"]["height"]  # read before it submits
        assert got["status"]["validator"] == node.address.hex().upper()
        assert got["broadcast"] == {"code": 0, "hash":
                                    hashlib.sha256(b"cosmjs=hello").hexdigest().upper()}
        assert got["tx"] == {"hash": got["broadcast"]["hash"], "height": h,
                             "index": block.txs.index(b"cosmjs=hello"), "code": 0,
                             "tx": "cosmjs=hello"}
        assert got["block"]["id"] == block.hash().hex().upper()
        assert got["block"]["height"] == h and "cosmjs=hello" in got["block"]["txs"]
        assert got["block"]["appHash"] == block.header.app_hash.hex().upper()
        assert got["block"]["lastBlockId"] == block.header.last_block_hash.hex().upper()
        when = dt.datetime.fromtimestamp(block.header.time / 1000, dt.UTC)
        assert got["block"]["time"] == when.strftime("%Y-%m-%dT%H:%M:%S.") + \
            f"{block.header.time % 1000:03d}Z"
        assert got["results"] == {"height": h, "codes": [0] * len(block.txs)}
        assert got["commit"]["height"] == h and got["commit"]["blockId"] == got["block"]["id"]
        assert got["commit"]["signatures"] == 1
        assert got["validators"] == {"total": 1, "addresses": [node.address.hex().upper()],
                                     "power": [10]}
        assert got["tx"]["hash"] in got["search"]["hashes"]
        assert got["search"]["total"] == len(block.txs)
        assert got["query"]["code"] == 0 and got["query"]["value"] == "hello"
        assert got["abciInfo"]["lastBlockHeight"] >= h
        assert got["newBlock"]["height"] > h and got["newBlock"]["chainId"] == node.genesis.chain_id
        assert got["earlier"] == {"hash": ours["check_tx"]["hash"].upper(),
                                  "height": ours["commit"]["height"], "tx": "ours=1"}
    finally:
        await node.stop()
