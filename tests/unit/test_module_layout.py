"""The shape of the packages that hold no HTTP code (ledger, vocab, policies): modules stay
small (ARCHITECTURE.md: one idea per file, about 500 lines at most) and import one another
without a cycle (late imports inside functions count too: they only hide one)."""

from __future__ import annotations

import ledger
import policies
import vocab
from tests.imports import cycle, graph, modules

PACKAGES = (ledger, vocab, policies)
MAX_LINES = 500


def test_modules_stay_small() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules(*PACKAGES).items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}, "split along seams"


def test_modules_import_one_another_without_a_cycle() -> None:
    found = graph(*PACKAGES)
    assert {"ledger.types.block", "vocab.shacl.report"} <= set(found)
    assert "ledger.types.validators" in found["ledger.types.commit"]  # relative imports count
    assert cycle(found) is None, " -> ".join(cycle(found) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
