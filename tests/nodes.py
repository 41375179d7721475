"""Real nodes for tests: `communs init` in a temp folder, then both apps served on loopback."""

from __future__ import annotations

import contextlib
import dataclasses
import random
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from connector.app.server import Running, running_node
from connector.cli.main import main
from connector.config import load, read_token, save
from connector.identity.did import did_web_from_url


def free_port() -> int:
    """A loopback port free now, below the kernel's ephemeral range: a port picked there (bind
    to 0) can be taken as the source port of an outgoing connection before the node binds it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32_768
    while True:
        port = random.randrange(10_000, low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def init_node(folder: Path, name: str = "ACME SAS", **options: str) -> Path:
    """Run `communs init` in-process for a node on a free loopback port."""
    port = free_port()
    argv = [
        "init",
        "--dir",
        str(folder),
        "--name",
        name,
        "--url",
        f"http://127.0.0.1:{port}",
        "--country",
        options.get("country", "FR-75"),
        "--registration-number",
        options.get("registration", "vatID:FR32123456789"),
        "--management-port",
        str(free_port()),
    ]
    assert main(argv) == 0
    return folder


def init_federation(factory) -> tuple[Path, Path, Path]:  # factory: pytest's tmp_path_factory
    """A trust anchor, a provider that trusts it (with two data files to publish) and a member."""
    anchor = init_node(factory.mktemp("anchor"), name="Federation Authority")
    provider = init_node(factory.mktemp("provider"), name="Open City")
    member = init_node(factory.mktemp("member"), name="ACME SAS", registration="leiCode:529900T8BM49AURSDO55")
    config = load(provider)
    save(dataclasses.replace(config, trust_anchors=(did_web_from_url(load(anchor).public_url),)))
    data = provider / "data"
    data.mkdir(exist_ok=True)
    (data / "air.csv").write_text("station,pm10\nA,12\nB,30\n")
    (data / "traffic.csv").write_text("road,cars\nN7,1200\n")
    return anchor, provider, member


@dataclass
class TestNode:
    running: Running
    token: str

    @property
    def did(self) -> str:
        return self.running.node.did

    @property
    def public(self) -> str:
        return f"http://127.0.0.1:{self.running.public_port}"

    @property
    def management(self) -> str:
        return f"http://127.0.0.1:{self.running.management_port}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextlib.asynccontextmanager
async def serving(folder: Path) -> AsyncIterator[TestNode]:
    config = load(folder)
    async with running_node(config) as running:
        yield TestNode(running, read_token(folder))


@contextlib.asynccontextmanager
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


async def publish(http: aiohttp.ClientSession, node: TestNode, path: Path, title: str = "Air quality",
                  policy: str = "open") -> dict:
    """PATH published on NODE through its management API, as the dataset's summary."""
    body = {"source": str(path), "title": title, "policy": policy}
    async with http.post(f"{node.management}/api/v1/datasets", json=body, headers=node.auth) as response:
        assert response.status == 201, await response.text()
        return await response.json()
