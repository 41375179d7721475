"""The CLI starts fast: `--help`, `--version` and the commands that only call the management
API import none of the heavy libraries (checked in a fresh interpreter's sys.modules)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from importlib.metadata import version

import pytest

from tests.nodes import init_node, serving

HEAVY = ("pyshacl", "rdflib", "pyld", "pyoxigraph", "sqlalchemy", "alembic", "aiohttp",
         "jwcrypto", "cryptography", "connector.app", "ledger.node")

# runs main(ARGV) and reports what it imported on stderr's last line
PROBE = """
import json, sys
from connector.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def probe(*argv: str) -> tuple[dict, subprocess.CompletedProcess]:
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True,
                            text=True, timeout=60)
    return json.loads(result.stderr.strip().splitlines()[-1]), result


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]


def test_help_imports_no_heavy_module():
    found, result = probe("--help")
    assert found["code"] == 0 and "negotiations" in result.stdout and "ledger" in result.stdout
    assert heavy(found["modules"]) == []


def test_a_command_help_loads_only_its_own_area():
    found, result = probe("negotiations", "list", "--help")
    assert found["code"] == 0 and "--state" in result.stdout
    assert heavy(found["modules"]) == []
    assert "connector.catalog.cli" not in found["modules"]


def test_version_comes_from_the_package_metadata():
    found, result = probe("--version")
    assert found["code"] == 0 and result.stdout.strip() == f"communs {version('communs')}"
    assert heavy(found["modules"]) == []


@pytest.fixture
def folder(tmp_path):
    return init_node(tmp_path / "node")


async def test_a_management_api_command_imports_no_heavy_module(folder):
    async with serving(folder):
        found, result = await asyncio.to_thread(probe, "negotiations", "list", "--dir",
                                                str(folder), "--json")
    assert found["code"] == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert heavy(found["modules"]) == [] and "asyncio" not in found["modules"]


def test_every_command_an_area_registers_is_listed():
    """A command missing from main.COMMANDS would be unreachable: the first parse would not
    know which area to load for it."""
    import argparse

    from connector.cli.main import ALIASES, COMMANDS, build_parser

    for area in {module for module, _ in COMMANDS.values()}:
        first = next(name for name, (module, _) in COMMANDS.items() if module == area)
        parser = build_parser(first)
        [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        listed = {name for name, (module, _) in COMMANDS.items() if module == area}
        registered = {name for name, sub in commands.choices.items()
                      if sub.get_default("func") or sub._subparsers}  # not a placeholder
        assert {ALIASES.get(n, n) for n in registered} == listed, area
