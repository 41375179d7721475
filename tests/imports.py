"""Our modules and what each imports, read from their source (nothing is imported), for the
tests of how packages are layered. Late imports inside functions count: they only hide one."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType


def modules(*packages: ModuleType) -> dict[str, Path]:
    """Every module of PACKAGES by its dotted name (a package by its own name)."""
    found = {}
    for package in packages:
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            parts = (*package.__name__.split("."), *path.relative_to(root).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The KNOWN modules that NAME imports (`from package import name` names the submodule
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
            found |= (subs & known) or {module}
    return (found & known) - {name}


def graph(*packages: ModuleType) -> dict[str, set[str]]:
    """Module -> the modules of PACKAGES it imports."""
    found = modules(*packages)
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of GRAPH, as the list of modules along it, or None."""
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
