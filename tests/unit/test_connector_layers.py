"""connector/app and connector/cli only compose: no feature, and nothing the features share,
imports either of them, at module level or inside a function (issue 18: features took the
node's app key from app/ and the CLI helpers from cli/, which imported them back). The CLI is
the top: it serves the apps; the apps never reach back into the CLI."""

from __future__ import annotations

from functools import cache

import pytest

import connector
from tests.imports import graph

# composer -> the folders whose modules may import it
IMPORTERS = {
    "connector.app": ("connector.app", "connector.cli"),
    "connector.cli": ("connector.cli",),
}


def within(name: str, folder: str) -> bool:
    return name == folder or name.startswith(folder + ".")


@cache
def connector_graph() -> dict[str, set[str]]:
    return graph(connector)


def test_imports_inside_functions_are_seen():
    # the catalog's commands open a node only when they need one (CLI start-up stays fast)
    assert "connector.node" in connector_graph()["connector.catalog.cli"]


@pytest.mark.parametrize("composer", sorted(IMPORTERS))
def test_only_the_composers_import_the_composers(composer):
    offenders = [
        f"{name} imports {imported}"
        for name, imported_modules in connector_graph().items()
        if not any(within(name, folder) for folder in IMPORTERS[composer])
        for imported in sorted(imported_modules) if within(imported, composer)
    ]
    assert offenders == []
