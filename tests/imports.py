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
            parts = path.relative_to(root.parent).with_suffix("").parts
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
