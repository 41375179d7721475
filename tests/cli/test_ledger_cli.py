"""`communs ledger` against a real validator process: `tx` waits for the commit and says at
which height, and the validator logs JSON lines like a connector node."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from connector.cli.main import main
from ledger.node import NodeConfig
from tests.nodes import free_port


@pytest.fixture
def validator(tmp_path):
    assert main(["ledger", "init", "--validators", "1", "--dir", str(tmp_path), "--json",
                 "--app", "kvstore"]) == 0
    home = tmp_path / "node0"
    config = NodeConfig.load(home)
    config.p2p_port, config.rpc_port = free_port(), free_port()
    config.save(home)
    log = (tmp_path / "validator.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "connector.cli.main", "ledger", "run",
                                "--dir", str(home)], stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{config.rpc_url}/status", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "no validator"
                time.sleep(0.1)
        yield home, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_tx_waits_for_its_commit_and_logs_are_json_lines(validator, capsys):
    home, process = validator
    capsys.readouterr()
    assert main(["ledger", "tx", "colour=blue", "--dir", str(home)]) == 0
    said = capsys.readouterr().out
    assert " committed at height " in said, said
    assert main(["ledger", "query", "key", "colour", "--dir", str(home)]) == 0
    assert capsys.readouterr().out.strip() == "colour = blue"
    assert main(["ledger", "tx", "colour=red", "--no-wait", "--json", "--dir", str(home)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"]

    process.terminate()
    process.wait(timeout=30)
    lines = (home.parent / "validator.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert entries and {"ts", "level", "logger", "msg"} <= set(entries[0])
    assert any(e["msg"].startswith("committed height") for e in entries)
