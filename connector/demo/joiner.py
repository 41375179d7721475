"""The fourth organization of the demo: a new node folder inside the federation's folder
(`<federation>/demo/<slug>/connector`), its ports, and its `communs serve` process, which the
demo starts once it has applied and stops when it ends. It also runs the federated catalog:
its `[crawler]` reads the members from the ledger's registry and crawls them every few seconds."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from connector.crawler.config import CrawlerConfig
from connector.federation.layout import Federation
from connector.federation.orgs import Org, organizations

FOLDER = "demo"  # inside the federation's folder: the demo's runs and organizations
# joiners listen from the federation's base port + 60 on (20 pairs below its validators), then
# after the validators of the largest federation, from + 140 on
PORT_RANGES = ((60, 20), (140, 80))
MAX_JOINERS = sum(count for _, count in PORT_RANGES)
CRAWL_INTERVAL = 2.0  # seconds between crawls: the catalog follows the demo as it plays
STOP_GRACE = 10.0


@dataclass(frozen=True)
class Joiner:
    org: Org
    folder: Path  # its connector's folder
    public_port: int
    management_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def log(self) -> Path:
        return self.folder.parent / "connector.log"

    def init_argv(self) -> tuple[str, ...]:
        return ("init", "--dir", str(self.folder), "--dev", "--name", self.org.name,
                "--url", self.url, "--management-port", str(self.management_port),
                "--country", self.org.country, "--registration-number", self.org.registration)


def _base_port(federation: Federation) -> int:
    return int(federation.members[0].public_url.rsplit(":", 1)[1])


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def next_joiner(federation: Federation) -> Joiner | None:
    """A new organization, one not used by any earlier run, on a free pair of ports; None
    when every one of the MAX_JOINERS slots is taken."""
    root = federation.folder / FOLDER
    base = _base_port(federation)
    for k in range(MAX_JOINERS):
        org = organizations(len(federation.members) + k + 1)[-1]
        folder = root / org.slug / "connector"
        public = base + _offset(k)
        if folder.parent.exists():
            continue  # an earlier run's organization (a member now, or an applicant)
        if _free(public) and _free(public + 1):
            return Joiner(org, folder, public, public + 1)
    return None


def _offset(k: int) -> int:
    for start, count in PORT_RANGES:
        if k < count:
            return start + 2 * k
        k -= count
    raise ValueError(k)


def enable_crawler(joiner: Joiner, rpc_url: str, genesis: Path) -> None:
    """Its [crawler]: the members from RPC_URL's registry, proven against GENESIS."""
    from connector.config import load, save

    config = load(joiner.folder)
    crawler = CrawlerConfig(enabled=True, rpc_url=rpc_url, genesis=str(genesis.resolve()),
                            interval=CRAWL_INTERVAL, request_timeout=5.0, member_timeout=20.0)
    save(dataclasses.replace(config, crawler=crawler))


class Serving:
    """The joiner's `communs serve`, in its own session (a Ctrl-C reaches the demo, which
    stops it), its output in the joiner's log."""

    def __init__(self, joiner: Joiner) -> None:
        self.joiner = joiner
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.joiner.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "connector.cli.main", "serve", "--dir", str(self.joiner.folder)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=self.joiner.folder)

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def ready(self) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{self.joiner.url}/health/ready", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
