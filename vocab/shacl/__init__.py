"""A SHACL shapes registry: named shape sets, parsed once, cached on disk, validated fast.

Why not hand pySHACL the whole shapes graph: the Gaia-X 25.11 set is ~165k triples (mostly
`sh:in` lists); parsing it takes seconds and wrapping it costs pySHACL a walk over every shape
on each call. Instead each set is compiled once into an index by target (`index`), kept on disk
(`cache`); a data graph is then validated against only the shapes whose targets can match it,
which gives the same report (`compiled`), as values (`report`). The sets themselves and their
files are listed in `sets`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from rdflib import Graph

from vocab.shacl.cache import default_cache_dir, load_index
from vocab.shacl.compiled import CompiledShapes
from vocab.shacl.report import ValidationReport, ValidationResult
from vocab.shacl.sets import SHAPE_SETS, ShapeSetSpec, full_graph, shape_set

__all__ = [
    "SHAPE_SETS",
    "CompiledShapes",
    "ShapeSetSpec",
    "ShapesRegistry",
    "ValidationReport",
    "ValidationResult",
    "default_cache_dir",
    "full_graph",
    "registry",
    "validate",
]


class ShapesRegistry:
    """Named shape sets, each compiled once per process (lazily, thread-safe) and on disk."""

    def __init__(self, cache_dir: Path | str | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._sets: dict[str, CompiledShapes] = {}
        self._locks: dict[str, threading.Lock] = {name: threading.Lock() for name in SHAPE_SETS}

    @staticmethod
    def names() -> list[str]:
        return sorted(SHAPE_SETS)

    def get(self, name: str) -> CompiledShapes:
        spec = shape_set(name)
        found = self._sets.get(name)
        if found is not None:
            return found
        with self._locks[name]:
            found = self._sets.get(name)
            if found is None:
                index = load_index(self.cache_dir, name, spec)
                found = self._sets[name] = CompiledShapes(name, index)
        return found

    def validate(
        self, data: Graph, shapes: str = "gaiax-loire-25.11", *, preselect: bool = True
    ) -> ValidationReport:
        return self.get(shapes).validate(data, preselect=preselect)


_default: ShapesRegistry | None = None
_default_lock = threading.Lock()


def registry() -> ShapesRegistry:
    """The process-wide registry (cache folder from $COMMUNS_CACHE or ~/.cache/communs)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ShapesRegistry()
        return _default


def validate(
    data_graph: Graph, shapes: str = "gaiax-loire-25.11", *, preselect: bool = True
) -> ValidationReport:
    return registry().validate(data_graph, shapes, preselect=preselect)
