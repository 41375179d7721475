"""Our application under the real CometBFT v0.38 (the Go binary from .ci/cometbft.sh), over the
ABCI socket: blocks commit, bank transfers go through CometBFT's broadcast_tx_commit, and our
CLI reads the results through CometBFT's RPC unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger import keys
from ledger.app import client
from ledger.cli import main as cli
from ledger.crypto import PrivateKey
from tests.ledger.cometnet import CometNet, b64, tx_result

RECIPIENT = PrivateKey.from_secret(b"cometbft-recipient")


@pytest.fixture
def one(tmp_path: Path) -> Iterator[CometNet]:
    net = CometNet(tmp_path, 1)
    net.start_all()
    yield net
    net.stop_all()


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    capsys.readouterr()
    assert cli(["ledger", *argv, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_one_cometbft_validator_runs_our_app(one: CometNet,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    one.wait([0], 2, timeout=30)
    home = one.home(0)
    chain_id = one.get(0, "/status")["node_info"]["network"]
    sender = keys.load_account_key(keys.account_key_path(home))
    to = keys.address_text(RECIPIENT)
    sends = [client.send(sender, chain_id, seq, to, 1_000 + seq) for seq in range(3)]
    heights = []
    for tx in sends:
        r = one.broadcast_tx_commit(0, tx)
        assert tx_result(r) == (0, ""), r
        heights.append(int(r["height"]))
    # a used sequence is refused by our app's CheckTx, with its code and log (the very same
    # bytes would stop earlier, in CometBFT's mempool cache)
    stale = client.send(sender, chain_id, 0, to, 5)
    again = one.get(0, f"/broadcast_tx_sync?tx=0x{stale.hex()}")
    assert int(again["code"]) != 0 and "sequence" in again["log"]
    # our CLI, pointed at CometBFT's RPC by the node folder, reads the results unchanged
    bal = _cli_json(capsys, "bank", "balance", to, "--dir", str(home))
    assert bal["balance"] == 1_000 + 1_001 + 1_002
    status = _cli_json(capsys, "status", "--dir", str(home))
    assert status["chain_id"] == chain_id and int(str(status["height"])) >= heights[-1]
    block = _cli_json(capsys, "query", "block", str(heights[0]), "--dir", str(home))
    assert block["height"] == heights[0] and sends[0] in [b64(t) for t in block["txs"]]
    # and CometBFT's own view of the app matches what the app reports
    info = one.get(0, "/abci_info")["response"]
    assert int(info["last_block_height"]) >= heights[-1]
    assert info["version"] == "communs-ledger-app/1"
