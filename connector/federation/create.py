"""Create a local federation's folders once: each organization's connector (`communs init`,
run for all of them at once: most of each is start-up and SHACL work) and one ledger genesis
whose validators are the organizations' nodes and whose registry lists them as founding
members. Either everything is made or nothing is left behind."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import socket
import sys
from pathlib import Path

from connector.config import load, save
from connector.errors import ConnectorError, Reason
from connector.federation.layout import Federation, Member
from connector.federation.orgs import MAX_ORGS, Org, organizations
from connector.ledger.config import LedgerConfig
from connector.node import KEYS_DIR

CHAIN_ID = "communs-local"
SAMPLE = Path(__file__).parent / "sample" / "air-quality-lyon.csv"
OPEN_LICENSE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
LEDGER_OFFSET = 100  # validators listen from base + 100 on, after every connector's pair
# governance periods of seconds, so that `communs demo` admits a member within its minute:
# every member's vote lands in one or two blocks (about a second each), and 15 s leave room
# for a loaded machine; a proposal's full deposit (10 com) opens its vote at once
LEDGER_OPTIONS = ("--voting-period", "15", "--deposit-period", "30", "--min-deposit", "10",
                  "--unbonding-time", "600")


def ports(base: int, i: int) -> tuple[int, int, int, int]:
    """Organization I's connector public and management ports, validator p2p and RPC ports."""
    ledger = base + LEDGER_OFFSET + 2 * i
    return base + 2 * i, base + 2 * i + 1, ledger, ledger + 1


def check_free(base: int, count: int) -> None:
    for i in range(count):
        for port in ports(base, i):
            with socket.socket() as probe:
                # as the servers bind: a port left in TIME-WAIT by a stopped federation is free
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    raise ConnectorError(Reason.CONFLICT, f"port {port} on 127.0.0.1 is in use: "
                                         f"stop what holds it or choose --base-port") from None


async def _command(*argv: str) -> dict:
    """Run `communs ARGV --json` in a child process; its JSON answer, or its error as ours."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "connector.cli.main", *argv, "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await child.communicate()
    if child.returncode != 0:
        said = err.decode(errors="replace").strip().splitlines()
        raise ConnectorError(Reason.BAD_CONFIG, f"`communs {argv[0]}` failed: "
                             + (said[-1] if said else f"exit code {child.returncode}"))
    return json.loads(out)


async def _init_connector(folder: Path, org: Org, public: int, management: int) -> dict:
    return await _command("init", "--dir", str(folder), "--dev", "--name", org.name,
                          "--url", f"http://127.0.0.1:{public}", "--management-port",
                          str(management), "--country", org.country,
                          "--registration-number", org.registration)


async def _publish_sample(connector: Path) -> None:
    """The public body's open data: hourly air-quality readings of four stations."""
    data = connector / "data"
    data.mkdir(exist_ok=True)
    path = data / SAMPLE.name
    shutil.copyfile(SAMPLE, path)
    await _command("publish", str(path), "--dir", str(connector), "--policy", "open",
                   "--title", "Air quality in Lyon, hourly, 16-18 November 2026",
                   "--description", "NO2, PM10, PM2.5 and O3 concentrations (µg/m³) measured "
                   "every hour at four monitoring stations of the Lyon metropolitan area.",
                   "--keyword", "air quality", "--keyword", "environment",
                   "--keyword", "open data", "--license", OPEN_LICENSE)


async def _create(folder: Path, count: int, base: int, sample: bool) -> Federation:
    orgs = organizations(count)
    inits = [_init_connector(folder / o.slug / "connector", o, *ports(base, i)[:2])
             for i, o in enumerate(orgs)]
    connectors = await asyncio.gather(*inits)
    staging = folder / ".genesis"
    members = [f"{c['did']}={c['publicUrl']}@{c['selfDescriptionHash']}" for c in connectors]
    # each organization's DID key is its ledger account: the connector signs with it
    account_keys = [str(Path(c["dir"]) / KEYS_DIR / "ed25519.jwk") for c in connectors]
    genesis = _command("ledger", "init", "--dir", str(staging), "--validators", str(count),
                       "--chain-id", CHAIN_ID, "--base-port", str(base + LEDGER_OFFSET),
                       *LEDGER_OPTIONS, *(a for m in members for a in ("--member", m)),
                       *(a for k in account_keys for a in ("--account-key", k)))
    if sample:
        chain, _ = await asyncio.gather(genesis, _publish_sample(folder / orgs[0].slug / "connector"))
    else:
        chain = await genesis
    federation = Federation(folder, chain["chain_id"], tuple(
        Member(slug=org.slug, name=org.name, did=connector["did"],
               public_url=connector["publicUrl"], management_url=connector["managementUrl"],
               validator_address=node["validator_address"], account=node["account"],
               rpc_url=f"http://127.0.0.1:{node['rpc_port']}")
        for org, connector, node in zip(orgs, connectors, chain["nodes"], strict=True)))
    for member, node in zip(federation.members, chain["nodes"], strict=True):
        Path(node["dir"]).rename(federation.validator(member))
        _link_ledger(federation.connector(member), federation.validator(member), member.rpc_url)
    staging.rmdir()
    federation.save()
    return federation


def _link_ledger(connector: Path, validator: Path, rpc_url: str) -> None:
    """The connector reads and writes the ledger through its organization's validator."""
    config = load(connector)
    genesis = os.path.relpath(validator / "genesis.json", connector)
    save(dataclasses.replace(config, ledger=LedgerConfig(rpc_url=rpc_url, genesis=genesis)))


def open_or_create(folder: Path, count: int | None, base: int,
                   sample: bool = False) -> tuple[Federation, bool]:
    """The federation in FOLDER, created with COUNT organizations (default 3) when there is none
    yet, the first publishing SAMPLE open data; and whether it was just created."""
    existing = Federation.load(folder)
    if existing is not None:
        if count is not None and count != len(existing.members):
            raise ConnectorError(Reason.CONFLICT, f"{folder} holds a federation of "
                                 f"{len(existing.members)} organizations, not {count}: leave out "
                                 f"--orgs, or choose another --dir for a new one")
        return existing, False
    count = 3 if count is None else count
    if not 1 <= count <= MAX_ORGS:
        raise ConnectorError(Reason.BAD_INPUT, f"--orgs must be between 1 and {MAX_ORGS}")
    if folder.exists() and any(folder.iterdir()):
        raise ConnectorError(Reason.CONFLICT, f"{folder} holds files but no federation: choose "
                             f"an empty or new --dir")
    check_free(base, count)
    existed = folder.exists()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        return asyncio.run(_create(folder, count, base, sample)), True
    except BaseException:
        # nothing half-made: the folder as it was
        if existed:
            for child in folder.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            shutil.rmtree(folder, ignore_errors=True)
        raise
