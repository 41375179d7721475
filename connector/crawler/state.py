"""What the last crawl saw of every source (digests, HTTP validators, validation), kept in
`<dir>/crawler/state.json` so that the next crawl asks conditionally, rewrites only what
changed and knows which graphs belong to members gone from the registry."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from pathlib import Path

from connector.crawler.graphs import SourceState

FILE = "state.json"


def load(folder: Path) -> dict[str, SourceState]:
    """The sources by graph name; empty when there is no state yet, or it is unreadable (the
    next crawl then rewrites every graph, which is always correct)."""
    try:
        raw = json.loads((folder / FILE).read_text())
        known = {f.name for f in fields(SourceState)}
        states = [SourceState(**{k: v for k, v in s.items() if k in known}) for s in raw["sources"]]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {s.graph: s for s in states}


def save(folder: Path, states: dict[str, SourceState]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (FILE + ".tmp")
    tmp.write_text(json.dumps({"sources": [asdict(s) for s in states.values()]}, indent=1))
    os.replace(tmp, folder / FILE)
