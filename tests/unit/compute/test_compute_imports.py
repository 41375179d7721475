"""The shape of `connector/compute/`: its modules import each other without a cycle (late
imports inside functions count too: they only hide one), and the rest of compute reaches the
sandbox through the sandbox package's entry point alone."""

from __future__ import annotations

import ast
from pathlib import Path

import connector.compute

PACKAGE = "connector.compute"
ROOT = Path(connector.compute.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The modules of compute that PATH imports (`from package import name` names the
    submodule when there is one, else the package's __init__)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{alias.name}" for alias in node.names}
            found |= (subs & modules) or {node.module}
    return found & modules


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: _imports(path, set(paths)) - {name} for name, path in paths.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules along it, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done:
            return None
        for nxt in sorted(graph[name]):
            if found := visit(nxt, [*path, name]):
                return found
        done.add(name)
        return None

    return next((c for name in sorted(graph) if (c := visit(name, []))), None)


def test_compute_modules_import_each_other_without_a_cycle() -> None:
    graph = _graph()
    assert f"{PACKAGE}.sandbox.local" in graph  # the walk saw the sandbox package
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]


def test_the_rest_of_compute_uses_only_the_sandbox_entry_point() -> None:
    inside = f"{PACKAGE}.sandbox"
    reaching_in = {
        (name, target)
        for name, targets in _graph().items()
        if not name.startswith(inside)
        for target in targets
        if target.startswith(inside + ".")
    }
    assert reaching_in == set()
