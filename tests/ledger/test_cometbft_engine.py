"""Our application under the real CometBFT v0.38 (the Go binary from .ci/cometbft.sh), over the
ABCI socket: blocks commit, bank transfers go through CometBFT's broadcast_tx_commit, and our
CLI reads the results through CometBFT's RPC unchanged."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
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
    proven = _cli_json(capsys, "bank", "balance", to, "--prove", "--dir", str(home))
    assert proven["balance"] == bal["balance"] and "verified" in proven  # CometBFT's headers
    status = _cli_json(capsys, "status", "--dir", str(home))
    assert status["chain_id"] == chain_id and int(str(status["height"])) >= heights[-1]
    block = _cli_json(capsys, "query", "block", str(heights[0]), "--dir", str(home))
    assert block["height"] == heights[0] and sends[0] in [b64(t) for t in block["txs"]]
    # and CometBFT's own view of the app matches what the app reports
    info = one.get(0, "/abci_info")["response"]
    assert int(info["last_block_height"]) >= heights[-1]
    assert info["version"] == "communs-ledger-app/1"


@pytest.fixture
def four(tmp_path: Path) -> Iterator[CometNet]:
    net = CometNet(tmp_path, 4)
    short = Path(tempfile.mkdtemp(prefix="abci-"))  # a unix socket path has ~100 bytes at most
    net.use_unix_socket(1, short / "app1.sock")  # one node reaches its app over unix://
    net.start_all()
    yield net
    net.stop_all()
    shutil.rmtree(short, ignore_errors=True)


def _same_app_hashes(net: CometNet, nodes: list[int]) -> int:
    """Every node's headers carry the same app hash at each common height; the top compared."""
    top = min(net.height(i) for i in nodes)
    hashes = [net.app_hashes(i, top) for i in nodes]
    assert len(hashes[0]) == top and all(h == hashes[0] for h in hashes), hashes
    return top


def test_four_cometbft_validators_agree_on_transfers_and_a_proposal(
        four: CometNet, capsys: pytest.CaptureFixture[str]) -> None:
    net = four
    net.wait(list(range(4)), 2, timeout=40)
    chain_id = net.get(0, "/status")["node_info"]["network"]
    to = keys.address_text(RECIPIENT)
    for i in range(4):  # each node's account sends through its own node's RPC
        sender = keys.load_account_key(keys.account_key_path(net.home(i)))
        r = net.broadcast_tx_commit(i, client.send(sender, chain_id, 0, to, 100 + i))
        assert tx_result(r) == (0, ""), r
    # a governance proposal and votes, through CometBFT, by our CLI
    proposed = _cli_json(capsys, "gov", "propose", "--title", "Use CometBFT", "--text",
                         "--deposit", "10com", "--dir", str(net.home(0)))
    assert proposed["code"] == 0, proposed
    for i in (1, 2, 3):
        voted = _cli_json(capsys, "gov", "vote", "1", "yes", "--dir", str(net.home(i)))
        assert voted["code"] == 0, voted
    shown = _cli_json(capsys, "gov", "show", "1", "--dir", str(net.home(2)))
    assert shown["title"] == "Use CometBFT", shown
    bal = _cli_json(capsys, "bank", "balance", to, "--dir", str(net.home(3)))
    assert bal["balance"] == 100 + 101 + 102 + 103
    net.wait(list(range(4)), net.height(0) + 1)
    assert _same_app_hashes(net, list(range(4))) >= 4


def _powers(net: CometNet, i: int, height: int) -> dict[str, int]:
    r = net.get(i, f"/validators?height={height}&per_page=100")
    return {v["address"]: int(v["voting_power"]) for v in r["validators"]}


@pytest.mark.slow
def test_cometbft_restart_replays_only_missing_blocks_and_staking_moves_power_at_h2(
        four: CometNet, capsys: pytest.CaptureFixture[str]) -> None:
    net = four
    net.wait(list(range(4)), 3, timeout=40)
    # kill validator 3 and its app: the other three keep committing
    net.kill(3)
    killed_at = max(net.height(i) for i in range(3))
    net.wait([0, 1, 2], killed_at + 5)
    log_lines = len((net.root / "app3.log").read_text().splitlines())
    net.start(3)
    net.wait(list(range(4)), max(net.height(i) for i in range(3)) + 2, timeout=60)
    restarted = (net.root / "app3.log").read_text().splitlines()[log_lines:]
    opened_at = next(int(line.split(" at height ")[1].split()[0]) for line in restarted
                     if " at height " in line)
    assert killed_at - 2 <= opened_at <= killed_at + 1
    replayed = [int(json.loads(line)["height"]) for line in restarted
                if line.startswith("{") and '"finalize_block"' in line]
    # every block after the app's own height exactly once, nothing it already had
    assert replayed == list(range(opened_at + 1, opened_at + 1 + len(replayed)))
    assert replayed[-1] >= killed_at + 5
    _same_app_hashes(net, list(range(4)))

    # a delegation to validator 0 at height H: CometBFT's set changes at H+2, not before
    val0 = net.get(0, "/status")["validator_info"]["address"]
    operator = keys.address_text(keys.load_account_key(keys.account_key_path(net.home(0))))
    done = _cli_json(capsys, "staking", "delegate", operator, "5com",
                     "--dir", str(net.home(1)))
    assert done["code"] == 0, done
    h = int(str(done["height"]))
    net.wait(list(range(4)), h + 3)
    assert _powers(net, 2, h + 1)[val0] == 10
    assert _powers(net, 2, h + 2)[val0] == 15
    assert _powers(net, 3, h + 3)[val0] == 15
    _same_app_hashes(net, list(range(4)))


@pytest.mark.slow
def test_a_fifth_node_joins_by_state_sync_from_our_snapshots(tmp_path: Path) -> None:
    net = CometNet(tmp_path, 4, spare=1)
    net.set_snapshots(5, keep=40)  # blocks come fast here: keep them while the node discovers
    net.start_all()
    try:
        net.wait(list(range(4)), 12, timeout=60)
        chain_id = net.get(0, "/status")["node_info"]["network"]
        sender = keys.load_account_key(keys.account_key_path(net.home(0)))
        to = keys.address_text(RECIPIENT)
        assert tx_result(net.broadcast_tx_commit(0, client.send(sender, chain_id, 0, to, 77)))[0] == 0
        assert sorted(p.name for p in (net.home(0) / "data" / "snapshots").iterdir())[-1] != ""
        fifth = net.add_state_sync_node(trust_height=net.height(0) - 1)
        net.start(fifth)
        top = max(net.height(i) for i in range(4))
        net.wait([fifth], top + 2, timeout=90)
        # it restored a snapshot: the app executed no block at or below the snapshot's height
        finalized = net.finalized_heights(fifth)
        base = int(net.get(fifth, "/status")["sync_info"]["earliest_block_height"])
        assert base > 1 and finalized and min(finalized) >= base
        assert min(finalized) % 5 == 1  # the block right after a snapshot height
        status = net.get(fifth, "/status")["sync_info"]
        h = int(status["latest_block_height"])
        header = net.get(0, f"/block?height={h}")["block"]["header"]
        assert status["latest_app_hash"] == header["app_hash"]
        bal = net.get(fifth, '/abci_query?path="/bank/balance"&data=0x' + to.encode().hex())
        assert json.loads(b64(bal["response"]["value"]))["balance"] == 77
    finally:
        net.stop_all()
