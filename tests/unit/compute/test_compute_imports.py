"""The shape of `connector/compute/`: its modules import each other without a cycle (late
imports inside functions count too: they only hide one), and the rest of compute reaches the
sandbox through the sandbox package's entry point alone."""

from __future__ import annotations

import connector.compute
from tests.imports import cycle, graph

PACKAGE = "connector.compute"


def test_compute_modules_import_each_other_without_a_cycle() -> None:
    found = graph(connector.compute)
    assert f"{PACKAGE}.sandbox.local" in found  # the walk saw the sandbox package
    assert cycle(found) is None, " -> ".join(cycle(found) or [])


def test_the_rest_of_compute_uses_only_the_sandbox_entry_point() -> None:
    inside = f"{PACKAGE}.sandbox"
    reaching_in = {
        (name, target)
        for name, targets in graph(connector.compute).items()
        if not name.startswith(inside)
        for target in targets
        if target.startswith(inside + ".")
    }
    assert reaching_in == set()
