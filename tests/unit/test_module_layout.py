"""The shape of the packages that hold no HTTP code (ledger, vocab, policies): modules stay
small (ARCHITECTURE.md: one idea per file, about 500 lines at most) and import one another
without a cycle (late imports inside functions count too: they only hide one)."""

from __future__ import annotations

import ledger
import policies
import vocab
from tests.imports import graph, modules

PACKAGES = (ledger, vocab, policies)
MAX_LINES = 500


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
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules(*PACKAGES).items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}, "split along seams"


def test_modules_import_one_another_without_a_cycle() -> None:
    found = graph(*PACKAGES)
    assert {"ledger.types.block", "vocab.shacl.report"} <= set(found)
    assert "ledger.types.validators" in found["ledger.types.commit"]  # relative imports count
    assert _cycle(found) is None, " -> ".join(_cycle(found) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
