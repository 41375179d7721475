"""Validation reports as values: the results of one validation, read from pySHACL's report
graph, each with its path rendered as SPARQL-like text and its nearest named shape."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from rdflib import BNode, Graph
from rdflib.namespace import SH


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)

@dataclass(frozen=True)
class ValidationResult:
    focus_node: str
    path: str | None
    message: str
    severity: str  # "Violation" | "Warning" | "Info"
    source_shape: str | None  # the nearest named shape (a property shape's node shape)
    value: str | None
    constraint: str | None  # the component's local name, e.g. "MinCountConstraintComponent"

    def to_json(self) -> dict[str, Any]:
        """focusNode, path, message, severity, sourceShape, value, constraint."""
        return {_camel(k): v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ValidationReport:
    conforms: bool
    results: tuple[ValidationResult, ...]
    shapes: str

    @property
    def violations(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    def paths(self) -> set[str]:
        return {r.path for r in self.violations if r.path}

    def to_json(self) -> dict[str, Any]:
        results = [r.to_json() for r in self.results]
        return {"conforms": self.conforms, "shapes": self.shapes, "results": results}



def _render(graph: Graph, node: Any) -> str:
    if not isinstance(node, BNode):
        return str(node)
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return f"^{_render(graph, inverse)}"
    for p, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = graph.value(node, p)
        if inner is not None:
            return f"({_render(graph, inner)}){suffix}"
    alt = graph.value(node, SH.alternativePath)
    if alt is not None:
        return "(" + "|".join(_render(graph, n) for n in graph.items(alt)) + ")"
    items = list(graph.items(node))
    if items:
        return "/".join(_render(graph, n) for n in items)
    return node.n3()


def _short(message: str, limit: int = 300) -> str:
    """pySHACL spells out a whole `sh:in` list (5,000 codes) in its message: keep the start."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def read_results(
    report: Graph, shapes: Graph, parents: dict[str, str]
) -> Iterator[ValidationResult]:
    """The results of a pySHACL report graph, in a stable order (paths rendered from SHAPES)."""
    rows = []
    for r in report.objects(None, SH.result):
        shape = report.value(r, SH.sourceShape)
        source = None
        if shape is not None:
            source = parents.get(shape.n3(), None if isinstance(shape, BNode) else str(shape))
        path = report.value(r, SH.resultPath)
        value = report.value(r, SH.value)
        component = report.value(r, SH.sourceConstraintComponent)
        severity = report.value(r, SH.resultSeverity)
        rows.append(
            ValidationResult(
                focus_node=str(report.value(r, SH.focusNode)),
                path=_render(shapes, path) if path is not None else None,
                message=_short(str(report.value(r, SH.resultMessage) or "")),
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                source_shape=source,
                value=str(value) if value is not None else None,
                constraint=str(component).rsplit("#", 1)[-1] if component else None,
            )
        )
    rows.sort(key=lambda r: (r.focus_node, r.path or "", r.constraint or "", r.message))
    yield from rows
