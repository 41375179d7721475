"""Connector nodes on a real ledger: four validator processes (StakeNet) whose genesis lists
the provider as a founding member with its did:web key as account, funds the others, and uses
governance periods of a few seconds; each node's [ledger] points at validator 0's RPC."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connector.cli.main import main
from connector.config import load, save
from connector.ledger.config import LedgerConfig
from connector.node import KEYS_DIR
from ledger.keys import address_text, load_account_key
from ledger.node import NodeConfig
from tests.ledger.stakenet import StakeNet
from tests.nodes import free_port, init_node

ZERO = "00" * 32
PERIOD = "3"  # seconds of deposit and voting periods


def account(folder: Path) -> str:
    return address_text(load_account_key(folder / KEYS_DIR / "ed25519.jwk"))


class Federation:
    """Connector folders by name (the first a founding member), and their ledger."""

    def __init__(self, root: Path, names: list[str], founders: int = 1) -> None:
        self.nodes = {n: init_node(root / n, name=f"{n.title()} SAS") for n in names}
        folders = list(self.nodes.values())
        options = ["--voting-period", PERIOD, "--deposit-period", PERIOD, "--min-deposit", "1"]
        for founder in folders[:founders]:  # validator i's account is founder i's DID key
            did, url = _identity(founder)
            options += ["--member", f"{did}={url}@{ZERO}",
                        "--account-key", str(founder / KEYS_DIR / "ed25519.jwk")]
        for folder in folders[founders:]:
            options += ["--fund", f"{account(folder)}=1000com"]
        self.net = StakeNet(root / "ledger", *options)
        self.rpc = NodeConfig.load(self.net.home(0)).rpc_url
        self.genesis = self.net.home(0) / "genesis.json"
        for folder in self.nodes.values():
            config = load(folder)
            save(dataclasses.replace(config, ledger=LedgerConfig(
                rpc_url=self.rpc, genesis=str(self.genesis), poll_interval=0.1)))

    def start(self) -> None:
        for i in range(4):
            self.net.start(i)
        self.net.wait([0, 1, 2, 3], 2)

    def stop(self) -> None:
        self.net.stop_all()

    def vote_all(self, proposal: int, option: str = "yes") -> None:
        """The three validators that are not the founder vote (the founder votes as a node)."""
        for i in (1, 2, 3):
            self.net.ok(i, "gov", "vote", str(proposal), option)

    def propose(self, messages: list[dict[str, Any]], title: str) -> int:
        path = self.net.root / f"proposal-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(messages))
        doc = self.net.ok(1, "gov", "propose", "--title", title, "--deposit", "1com",
                          "--messages", str(path))
        return int(doc["proposal_id"])


def _identity(folder: Path) -> tuple[str, str]:
    from connector.identity.did import did_web_from_url

    url = load(folder).public_url
    return did_web_from_url(url), url


async def communs(capsys: Any, *argv: str, ok: bool = True) -> Any:
    """`communs ARGV --json` in a thread (it runs its own event loop): its JSON output, or
    (exit code, stderr) when OK is false."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, [*argv, "--json"])
    out, err = capsys.readouterr()
    if not ok:
        return code, err
    assert code == 0, err
    return json.loads(out)


async def until(what: str, check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:g} s"
        await asyncio.sleep(0.1)


@contextlib.contextmanager
def one_validator(folder: Path, *options: str) -> Iterator[tuple[Path, str]]:
    """`ledger init --validators 1 OPTIONS` in FOLDER, its validator running on free ports until
    the state after its first block can be proven: (its folder, its RPC URL)."""
    assert main(["ledger", "init", "--validators", "1", "--dir", str(folder), *options]) == 0
    home = folder / "node0"
    config = NodeConfig.load(home)
    config.p2p_port, config.rpc_port = free_port(), free_port()
    config.save(home)
    with (folder / "validator.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "ledger.cli", "ledger", "run",
                                    "--dir", str(home)], stderr=log)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{config.rpc_url}/status", timeout=1) as r:
                        if int(json.load(r)["result"]["sync_info"]["latest_block_height"]) >= 2:
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline and process.poll() is None, "no validator"
                time.sleep(0.1)
            yield home, config.rpc_url
        finally:
            process.terminate()
            process.wait(timeout=30)
