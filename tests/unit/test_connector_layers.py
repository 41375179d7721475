"""connector/app and connector/cli only compose: no feature, and nothing the features share,
imports either of them, at module level or inside a function (issue 18: features took the
node's app key from app/ and the CLI helpers from cli/, which imported them back). The CLI is
the top: it serves the apps; the apps never reach back into the CLI."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import connector

ROOT = Path(connector.__file__).parent
# composer -> the folders whose modules may import it
IMPORTERS = {"app": ("app", "cli"), "cli": ("cli",)}


def imports(source: str, package: str) -> Iterator[str]:
    """Every module SOURCE imports, anywhere in it; relative imports resolved from PACKAGE."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[:len(parts) - node.level + 1] if node.level else [])
            module = ".".join(filter(None, (base, node.module)))
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def package_of(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts if path.name == "__init__.py" else parts[:-1])


@cache
def connector_imports() -> dict[Path, list[str]]:
    """What each module of the connector imports (parsed once for both composers)."""
    return {path: sorted(set(imports(path.read_text(), package_of(path))))
            for path in sorted(ROOT.rglob("*.py"))}


def test_imports_are_found_inside_functions_and_relative_ones_resolved():
    source = "import a.b\ndef f():\n    from connector.app import keys\n    from ..cli import x\n"
    found = set(imports(source, "connector.catalog"))
    assert {"a.b", "connector.app.keys", "connector.cli.x"} <= found


@pytest.mark.parametrize("composer", sorted(IMPORTERS))
def test_only_the_composers_import_the_composers(composer):
    allowed = [ROOT / folder for folder in IMPORTERS[composer]]
    banned = f"connector.{composer}"
    offenders = [
        f"{path.relative_to(ROOT.parent)} imports {name}"
        for path, names in connector_imports().items() if not any(a in path.parents for a in allowed)
        for name in names
        if name == banned or name.startswith(banned + ".")
    ]
    assert offenders == []
