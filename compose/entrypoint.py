"""The container's entrypoint: configure a node folder from the environment, then become the
process (`exec`), so that the container's stop signal reaches it.

    entrypoint.py connector   `communs init` the first time, then [public], [management],
                              [storage] and [ledger] from the environment; `communs serve`
    entrypoint.py validator   ledger.json's listen addresses and peers; `communs ledger run`
    entrypoint.py ledger-app  the application for a CometBFT engine, on a unix socket
    entrypoint.py health connector|validator   exit 0 when ready (the compose health checks)

The keys are the ones `communs federation up` writes: [ledger] rpc_url and genesis, [crawler]
enabled, rpc_url, genesis and interval (see connector/federation/create.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

CONNECTOR_HOME = Path(os.environ.get("COMMUNS_HOME", "/var/lib/communs/connector"))
VALIDATOR_HOME = Path(os.environ.get("COMMUNS_VALIDATOR_HOME", "/var/lib/communs/validator"))
PUBLIC_PORT, MANAGEMENT_PORT = 8181, 8182  # inside the container; compose maps them
P2P_PORT, RPC_PORT = 26656, 26657
ABCI_SOCKET = "unix:///run/communs/abci.sock"
PASSWORD_FILE = Path("/run/secrets/postgres-password")
# what the environment may set, and its default in this compose file
DEFAULTS = {
    "COMMUNS_NAME": None, "COMMUNS_PUBLIC_URL": None, "COMMUNS_COUNTRY": None,
    "COMMUNS_REGISTRATION_NUMBER": None,
    "COMMUNS_DATABASE": "postgresql://communs@postgres:5432/communs",
    "COMMUNS_LEDGER_RPC": "http://validator:26657",
    "COMMUNS_LEDGER_GENESIS": str(VALIDATOR_HOME / "genesis.json"),
    "COMMUNS_LEDGER_PEERS": "",  # other validators: NODE_ID@HOST:26656, comma-separated
    "COMMUNS_CRAWLER_INTERVAL": "",  # seconds between crawls of the federation; empty: no crawler
}


def env(name: str) -> str:
    value = os.environ.get(name) or DEFAULTS[name]
    if value is None:
        sys.exit(f"error: set {name} in the environment (.env): it is needed the first time")
    return value


def communs(*argv: str) -> None:
    done = subprocess.run([sys.executable, "-m", "connector.cli.main", *argv])
    if done.returncode != 0:
        sys.exit(done.returncode)


def configure_connector(home: Path = CONNECTOR_HOME) -> None:
    from connector.config import load, save
    from connector.crawler.config import CrawlerConfig
    from connector.ledger.config import LedgerConfig

    if not (home / "communs.toml").exists():
        communs("init", "--dir", str(home), "--name", env("COMMUNS_NAME"),
                "--url", env("COMMUNS_PUBLIC_URL"), "--country", env("COMMUNS_COUNTRY"),
                "--registration-number", env("COMMUNS_REGISTRATION_NUMBER"))
    config = load(home)
    rpc, genesis = env("COMMUNS_LEDGER_RPC"), env("COMMUNS_LEDGER_GENESIS")
    interval = env("COMMUNS_CRAWLER_INTERVAL")
    crawler = (CrawlerConfig(enabled=True, rpc_url=rpc, genesis=genesis, interval=float(interval))
               if interval else config.crawler)
    # the management port listens in the container's network only: compose publishes it
    # on the host's loopback alone
    save(dataclasses.replace(
        config, public_host="0.0.0.0", public_port=PUBLIC_PORT, management_host="0.0.0.0",
        management_port=MANAGEMENT_PORT, database=env("COMMUNS_DATABASE"),
        ledger=dataclasses.replace(config.ledger, rpc_url=rpc, genesis=genesis)
        if Path(genesis).exists() else LedgerConfig(), crawler=crawler))


def configure_validator(home: Path = VALIDATOR_HOME) -> None:
    from ledger.node import NodeConfig

    config = NodeConfig.load(home)
    peers = [p.strip() for p in env("COMMUNS_LEDGER_PEERS").split(",") if p.strip()]
    dataclasses.replace(config, p2p_host="0.0.0.0", p2p_port=P2P_PORT, rpc_host="0.0.0.0",
                        rpc_port=RPC_PORT, peers=peers or config.peers).save(home)


def healthy(kind: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = (f"http://127.0.0.1:{PUBLIC_PORT}/health/ready" if kind == "connector"
           else f"http://127.0.0.1:{RPC_PORT}/status")
    try:
        with opener.open(url, timeout=3) as response:
            body = response.read(1_000_000)
    except OSError:
        return False
    if kind == "connector":
        return True
    return int(json.loads(body)["result"]["sync_info"]["latest_block_height"]) >= 1


def main(argv: list[str]) -> None:
    mode = argv[0] if argv else "connector"
    if mode == "health" and len(argv) == 2:
        sys.exit(0 if healthy(argv[1]) else 1)
    if PASSWORD_FILE.exists():  # asyncpg reads PGPASSWORD: the password stays out of the config
        os.environ["PGPASSWORD"] = PASSWORD_FILE.read_text().strip()
    python = [sys.executable, "-m"]
    if mode == "connector":
        configure_connector()
        command = [*python, "connector.cli.main", "serve", "--dir", str(CONNECTOR_HOME)]
    elif mode == "validator":
        configure_validator()
        command = [*python, "connector.cli.main", "ledger", "run", "--dir", str(VALIDATOR_HOME)]
    elif mode == "ledger-app":
        command = [*python, "connector.cli.main", "ledger", "app", "--dir", str(VALIDATOR_HOME),
                   "--listen", ABCI_SOCKET]
    else:
        sys.exit(f"error: unknown mode {mode!r}: connector, validator, ledger-app or health KIND")
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main(sys.argv[1:])
