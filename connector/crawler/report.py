"""A crawl's outcome: per member, the datasets found, the graphs rewritten and what failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class MemberReport:
    did: str
    endpoint: str
    status: str  # the registry's
    datasets: int = 0  # in its DSP catalog as this node sees it (the DCAT export's when none)
    changed: list[str] = field(default_factory=list)  # kinds of source rewritten
    unchanged: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # kind -> why
    invalid: dict[str, list[str]] = field(default_factory=dict)  # kind -> validation problems
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"did": self.did, "endpoint": self.endpoint, "status": self.status,
                "datasets": self.datasets, "changed": self.changed, "unchanged": self.unchanged,
                "failures": self.failures, "invalid": self.invalid, "seconds": round(self.seconds, 3)}


@dataclass
class CrawlReport:
    height: int  # of the registry read
    verified: bool  # whether the registry answers were proven
    started: str
    seconds: float = 0.0
    members: list[MemberReport] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # graphs dropped (members gone)

    @property
    def failed(self) -> bool:
        return any(m.failures for m in self.members)

    def to_json(self) -> dict[str, Any]:
        return {"height": self.height, "verified": self.verified, "started": self.started,
                "seconds": round(self.seconds, 3), "members": [m.to_json() for m in self.members],
                "removed": self.removed,
                "datasets": sum(m.datasets for m in self.members),
                "failures": sum(len(m.failures) for m in self.members)}

    def rows(self) -> list[tuple[str, ...]]:
        return [(m.did, m.status, str(m.datasets), ", ".join(m.changed) or "-",
                 "; ".join(f"{k}: {v}" for k, v in m.failures.items()) or "-",
                 "; ".join(f"{k}: {len(v)} problem(s)" for k, v in m.invalid.items()) or "-")
                for m in self.members]
