"""The shape of the packages that hold no HTTP code (ledger, vocab, policies): modules stay
small (ARCHITECTURE.md: one idea per file, about 500 lines at most) and import one another
without a cycle (late imports inside functions count too: they only hide one)."""

from __future__ import annotations

import ast
from pathlib import Path

import ledger
import policies
import vocab

PACKAGES = (ledger, vocab, policies)
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root.parent).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: set[str]) -> set[str]:
    """The modules of ours that NAME imports (`from package import name` names the submodule
    when there is one, else the package's __init__)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            subs = {f"{module}.{alias.name}" for alias in node.names}
            found |= (subs & modules) or {module}
    return (found & modules) - {name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules along it, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return None
        for nxt in sorted(graph[name]):
            if found := visit(nxt, [*path, name]):
                return found
        done.add(name)
        return None

    return next((c for name in sorted(graph) if (c := visit(name, []))), None)


def test_modules_stay_small() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}, "split along seams"


def test_modules_import_one_another_without_a_cycle() -> None:
    graph = _graph()
    assert {"ledger.types.block", "vocab.shacl.report"} <= set(graph)
    assert "ledger.types.validators" in graph["ledger.types.commit"]  # relative imports count
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
