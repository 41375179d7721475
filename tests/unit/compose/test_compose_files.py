"""compose/: the Compose file checked against the Compose specification's JSON schema (no
container engine runs here), its ports and volumes those compose/README.md names, and its
entrypoint writing the configuration keys `communs federation up` writes."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from connector.config import load
from connector.federation.create import _link_ledger
from tests.nodes import init_node

COMPOSE = Path(__file__).parents[3] / "compose"


def compose_file() -> dict:
    return yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())


def schema_errors(document: dict) -> list[str]:
    schema = json.loads((COMPOSE / "schema" / "compose-spec.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]


def entrypoint():
    spec = importlib.util.spec_from_file_location("compose_entrypoint", COMPOSE / "entrypoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert schema_errors(compose_file()) == []


@pytest.mark.parametrize("break_it", [
    lambda d: d["services"]["connector"]["healthcheck"].update(intervall="5s"),
    lambda d: d["services"]["validator"].update(depends_on={"postgres": {"condition": "service_ready"}}),
    lambda d: d["services"]["postgres"].update(volumes="postgres-data:/var/lib/postgresql/data"),
    lambda d: d.update(volume={"connector-home": {}}),
], ids=["healthcheck key", "depends_on condition", "volumes not a list", "top-level key"])
def test_the_schema_refuses_what_compose_refuses(break_it) -> None:
    broken = copy.deepcopy(compose_file())
    break_it(broken)
    assert schema_errors(broken) != []


def readme_table(header: str) -> list[list[str]]:
    """The rows of the compose README's table whose first column is HEADER."""
    lines = (COMPOSE / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def published(service: dict) -> set[int]:
    return {int(str(p).rsplit(":", 1)[1]) for p in service.get("ports", [])}


def test_ports_and_volumes_are_those_the_readme_names() -> None:
    services = compose_file()["services"]
    named = {(int(port), service) for port, service, _ in readme_table("port")}
    always = {(port, name) for name, s in services.items() if "profiles" not in s
              for port in published(s)}
    assert always == named
    # the CometBFT profile stands in for the validator, on the same ports
    assert published(services["cometbft"]) == {p for p, s in named if s == "validator"}
    assert set(compose_file()["volumes"]) == {row[0] for row in readme_table("volume")}
    exposed = re.search(r"^EXPOSE (.+)$", (COMPOSE / "Dockerfile").read_text(), re.M)
    assert {int(p) for p in exposed.group(1).split()} == {p for p, _ in named}
    # the management port is published on the host's loopback only
    assert "127.0.0.1:8182:8182" in services["connector"]["ports"]
    # every service that keeps state keeps it in a named volume
    for name in ("postgres", "validator", "connector"):
        mounts = [v.split(":")[0] for v in services[name]["volumes"]]
        assert mounts and all(m in compose_file()["volumes"] for m in mounts), name


def test_every_variable_the_files_name_is_one_the_entrypoint_reads() -> None:
    known = set(entrypoint().DEFAULTS) | {"COMMUNS_IMAGE", "COMMUNS_PASSPHRASE", "COMMUNS_HOME"}
    texts = [(COMPOSE / n).read_text() for n in ("docker-compose.yml", ".env.example", "README.md")]
    named = {v for text in texts for v in re.findall(r"\bCOMMUNS_[A-Z_]+\b", text)}
    assert named and named <= known, named - known


def test_the_entrypoint_writes_the_keys_federation_up_writes(tmp_path, monkeypatch) -> None:
    home = init_node(tmp_path / "connector")
    validator = tmp_path / "validator"
    done = subprocess.run([sys.executable, "-m", "connector.cli.main", "ledger", "init",
                           "--validators", "1", "--dir", str(tmp_path / "chain"), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (tmp_path / "chain" / "node0").rename(validator)
    _link_ledger(home, validator, "http://127.0.0.1:26657")  # as `federation up` does
    by_federation = set(tomllib.loads((home / "communs.toml").read_text())["ledger"])

    monkeypatch.setenv("COMMUNS_LEDGER_GENESIS", str(validator / "genesis.json"))
    monkeypatch.setenv("COMMUNS_LEDGER_PEERS", "ab12@org-b.example:26656, cd34@org-c.example:26656")
    monkeypatch.setenv("COMMUNS_CRAWLER_INTERVAL", "300")
    module = entrypoint()
    module.configure_connector(home)
    module.configure_validator(validator)

    written = tomllib.loads((home / "communs.toml").read_text())
    assert set(written["ledger"]) == by_federation == {"rpc_url", "genesis"}
    config = load(home)
    assert config.ledger.rpc_url == "http://validator:26657"
    assert config.database == "postgresql://communs@postgres:5432/communs"
    assert (config.public_host, config.public_port, config.management_port) == ("0.0.0.0", 8181, 8182)
    assert config.crawler.enabled and config.crawler.interval == 300.0
    assert "password" not in (home / "communs.toml").read_text()
    node = json.loads((validator / "ledger.json").read_text())
    assert (node["p2p_host"], node["p2p_port"], node["rpc_port"]) == ("0.0.0.0", 26656, 26657)
    assert node["peers"] == ["ab12@org-b.example:26656", "cd34@org-c.example:26656"]


def test_a_first_start_without_its_identity_says_which_variable(tmp_path, monkeypatch) -> None:
    for name in ("COMMUNS_NAME", "COMMUNS_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="set COMMUNS_NAME"):
        entrypoint().configure_connector(tmp_path / "new")
    assert not (tmp_path / "new").exists()
