"""`communs ledger` on a ledger chain against a real validator process: keys (ours and a JWK),
balances, sends and the refusals a user meets, with their exact text."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.request

import pytest

from connector.cli.main import main
from ledger.crypto import PrivateKey
from ledger.node import NodeConfig
from tests.nodes import free_port


def start(home, log_path):
    config = NodeConfig.load(home)
    config.p2p_port, config.rpc_port = free_port(), free_port()
    config.save(home)
    log = log_path.open("w")
    process = subprocess.Popen([sys.executable, "-m", "connector.cli.main", "ledger", "run",
                                "--dir", str(home)], stderr=log)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{config.rpc_url}/status", timeout=1):
                return process, log
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, "no validator"
            time.sleep(0.1)


@pytest.fixture
def chain(tmp_path):
    assert main(["ledger", "init", "--validators", "1", "--dir", str(tmp_path / "a"),
                 "--balance", "110com"]) == 0  # 10 com of it bonded as the validator's
    assert main(["ledger", "init", "--validators", "1", "--dir", str(tmp_path / "b")]) == 0
    home = tmp_path / "a" / "node0"
    process, log = start(home, tmp_path / "validator.log")
    try:
        yield home, tmp_path / "b" / "node0"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def run(capsys, *argv):
    capsys.readouterr()
    code = main(["ledger", *argv])
    got = capsys.readouterr()
    return code, got.out, got.err.removeprefix("error: ")


def test_send_balance_and_refusals(chain, capsys):
    home, other = chain
    assert (home / "account_key.json").stat().st_mode & 0o777 == 0o600
    code, said, _ = run(capsys, "keys", "--json", "--dir", str(other))
    bob = json.loads(said)["address"]
    code, said, _ = run(capsys, "keys", "--json", "--dir", str(home))
    alice = json.loads(said)["address"]
    code, said, _ = run(capsys, "bank", "balance", "--dir", str(home))
    assert code == 0 and said.startswith(f"{alice} has 100 com (100000000 ucom) at height ")

    code, said, err = run(capsys, "bank", "send", bob, "1.5com", "--dir", str(home))
    assert code == 0, err
    assert said.startswith(f"sent 1.5 com (1500000 ucom) from {alice} to {bob}: transaction ")
    code, said, _ = run(capsys, "bank", "balance", bob, "--json", "--dir", str(home))
    assert json.loads(said)["balance"] == 1_500_000
    code, said, _ = run(capsys, "query", "account", alice, "--json", "--dir", str(home))
    assert json.loads(said)["sequence"] == 1 and json.loads(said)["balance"] == 98_498_000

    code, _, err = run(capsys, "bank", "send", bob, "500com", "--dir", str(home))
    assert code == 1 and err.strip() == (
        f"insufficient funds: {alice} has 98498000 ucom, "
        f"needs 500002000 ucom")
    code, _, err = run(capsys, "bank", "send", bob, "5 euros", "--dir", str(home))
    assert code == 1 and err.strip() == ("invalid amount '5 euros': write it as 5com, 1.5com, "
                                         "1500000ucom or a whole number of ucom")
    fee_collector = "com17xpfvakm2amg962yls6f84z3kell8c5luz5mgf"
    code, _, err = run(capsys, "bank", "send", fee_collector, "1com", "--dir", str(home))
    assert code == 1 and err.strip() == (f"{fee_collector} is a module "
                                         f"account (fee_collector) and cannot receive sends")
    code, _, err = run(capsys, "tx", "k=v", "--dir", str(home))
    assert code == 1 and "is for kvstore chains" in err


def test_keys_reads_an_ed25519_jwk(tmp_path, capsys):
    key = PrivateKey.from_secret(b"did:web key")
    b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    jwk = tmp_path / "ed25519.jwk"
    jwk.write_text(json.dumps({"kty": "OKP", "crv": "Ed25519", "d": b64u(key.seed),
                               "x": b64u(key.pub_key)}))
    code, said, _ = run(capsys, "keys", "--key", str(jwk), "--json")
    doc = json.loads(said)
    assert code == 0 and doc["hex"] == key.address.hex() and doc["address"].startswith("com1")
    jwk.write_text(json.dumps({"kty": "OKP", "crv": "Ed25519", "x": b64u(key.pub_key)}))
    code, _, err = run(capsys, "keys", "--key", str(jwk))
    assert code == 1 and "it is a public JWK" in err
