"""Import of a DCAT or DCAT-AP file: parse, validate against DCAT-AP 3.0.1, keep what is valid.

Validation policy (real records violate the strict shapes; see specs/dcat-ap/SOURCES.md):
each dataset is validated with the "dcat-ap-3.0.1" shape set (shapes.ttl, range.ttl,
shapes_recommended.ttl) on the part of the file its shapes can reach, and only results about
the dataset or its distributions count. Datasets of the same structure share one validation
(see `_abstract`): that is what makes a 10,000-dataset portal export import in seconds. A dataset is **rejected** when a Violation of the cardinality shapes
(shapes.ttl, Min/MaxCount) has the dataset itself as focus: dcat:Dataset is a mandatory class,
and a missing or repeated mandatory property (dct:title, dct:description) makes the record
unusable. It is also rejected when it has no title we can show. Every other result (datatypes,
node kinds, the class ranges of range.ttl, which fail on any untyped publisher or licence IRI,
distributions, recommended properties) becomes a **warning** on the imported dataset.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal
from rdflib.namespace import DCAT, RDF, RDFS

from connector.catalog import dcat, xmlguard
from connector.catalog.formats import ACCEPTED, NAMES
from connector.catalog.model import Dataset
from connector.errors import ConnectorError, Reason
from vocab.shacl import registry
from vocab.terms import rdflib_term

SHAPES = "dcat-ap-3.0.1"
_CARDINALITY = {"MinCountConstraintComponent", "MaxCountConstraintComponent"}


@dataclass
class Rejected:
    iri: str
    reasons: list[str]


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)

    @property
    def imported(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"iri": r.iri, "reasons": r.reasons} for r in self.rejected],
            "warnings": self.warnings,
        }


_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "xml": ox.RdfFormat.RDF_XML}


def parse(data: bytes, fmt: str, source: str = "the file") -> Graph:
    """An rdflib graph, or BAD_INPUT naming the syntax problem (with its line when the parser
    tells it). JSON-LD goes through the offline loader: a remote @context that is not bundled
    is an error, never a download. RDF/XML declaring entities is refused before parsing."""
    if fmt == "json-ld":
        from vocab.errors import VocabError
        from vocab.jsonld import parse_json, to_graph

        try:
            return to_graph(parse_json(data))
        except VocabError as exc:
            raise ConnectorError(Reason.BAD_INPUT, f"{source} is not usable JSON-LD: {exc}") from None
    if fmt == "xml":
        xmlguard.refuse_entities(data, source)
    problem = None
    fast = _OX_FORMATS.get(fmt)
    if fast is not None:
        try:  # pyoxigraph's parsers are several times faster than rdflib's
            graph = Graph()
            graph.addN((rdflib_term(q.subject), rdflib_term(q.predicate), rdflib_term(q.object), graph)
                       for q in ox.parse(data, format=fast, without_named_graphs=True))
            return graph
        except (SyntaxError, ValueError) as exc:
            problem = str(exc)  # rdflib is more lenient with real-world files: let it decide
    try:
        return Graph().parse(data=data, format=fmt)
    except Exception as exc:  # noqa: BLE001 - rdflib raises many types for bad syntax
        # pyoxigraph's message names the line and column; rdflib's spans several lines
        problem = problem or " ".join(str(exc).split()) or type(exc).__name__
        raise ConnectorError(
            Reason.BAD_INPUT,
            f"{source} is not valid {NAMES[fmt]} ({problem[:300]}); {ACCEPTED}",
        ) from None


_DEPTH = 3  # dataset -> distribution / agent -> their values -> those values' types


def _abstract(graph: Graph, node: Any, depth: int, path: frozenset) -> tuple:
    """NODE as the DCAT-AP shapes see it: their constraints (cardinality, datatype, node kind,
    class, node, or) read kinds, datatypes, languages and types, never values. Datasets with
    the same abstract form get the same validation results, so one is validated per form."""
    if isinstance(node, Literal):
        return ("L", str(node.datatype or ""), node.language or "", bool(getattr(node, "ill_typed", False)))
    kind = "B" if isinstance(node, BNode) else "I"
    types = tuple(sorted(str(t) for t in graph.objects(node, RDF.type)))
    if depth == 0 or node in path:
        return (kind, types)
    inner = path | {node}
    edges = sorted(
        (str(p), repr(_abstract(graph, o, depth - 1, inner)))
        for p, o in graph.predicate_objects(node)
        if p != RDF.type
    )
    return (kind, types, tuple(edges))


def _signature(graph: Graph, node: Any) -> tuple:
    incoming = sorted((str(p), tuple(sorted(map(str, graph.objects(s, RDF.type))))) for s, p in graph.subject_predicates(node))
    return (_abstract(graph, node, _DEPTH, frozenset()), tuple(incoming))


def _neighbourhood(graph: Graph, root: Any) -> Graph:
    """The triples the shapes can reach from ROOT (see _DEPTH), plus its incoming edges."""
    sub = Graph()
    frontier, seen = [root], {root}
    for _ in range(_DEPTH):
        following = []
        for node in frontier:
            for p, o in graph.predicate_objects(node):
                sub.add((node, p, o))
                if not isinstance(o, Literal) and o not in seen:
                    seen.add(o)
                    following.append(o)
        frontier = following
    for node in frontier:
        for t in graph.objects(node, RDF.type):
            sub.add((node, RDF.type, t))
    for s, p in graph.subject_predicates(root):
        sub.add((s, p, root))
        for t in graph.objects(s, RDF.type):
            sub.add((s, RDF.type, t))
    for triple in graph.triples((None, RDFS.subClassOf, None)):
        sub.add(triple)
    return sub


@dataclass(frozen=True)
class _Finding:
    severity: str
    role: str  # "dataset" or "distribution"
    path: str
    constraint: str
    shape: str

    @property
    def fatal(self) -> bool:
        return (
            self.severity == "Violation"
            and self.constraint in _CARDINALITY
            and self.role == "dataset"
            and self.shape.endswith("shapes.ttl#Dataset_Shape")
        )

    def line(self) -> str:
        kind = self.constraint.removesuffix("ConstraintComponent")
        return f"{self.severity} on the {self.role}: {self.path or '(node)'} fails {kind}"


def _findings(graph: Graph, representatives: dict[tuple, Any]) -> dict[tuple, list[_Finding]]:
    """One pySHACL run over the union of the representatives' neighbourhoods (its fixed cost
    dominates on small graphs); results are kept for the representatives' datasets and
    distributions only, by structure."""
    union = Graph()
    members: dict[str, list[tuple[tuple, str]]] = defaultdict(list)
    for form, root in representatives.items():
        union += _neighbourhood(graph, root)
        roles = [(root, "dataset"), *((d, "distribution") for d in graph.objects(root, DCAT.distribution))]
        for node, role in roles:
            members[str(node)].append((form, role))
            if isinstance(node, BNode):
                members[f"_:{node}"].append((form, role))
    found: dict[tuple, set[_Finding]] = {form: set() for form in representatives}
    for r in registry().validate(union, SHAPES).results:
        for form, role in members.get(r.focus_node, ()):
            found[form].add(_Finding(r.severity, role, r.path or "", r.constraint or "", r.source_shape or ""))
    return {form: sorted(f, key=lambda x: (x.role, x.path, x.constraint, x.severity)) for form, f in found.items()}


def check(
    graph: Graph, publisher: str, offers_for: Any, now: datetime
) -> tuple[list[Dataset], ImportReport]:
    """The datasets to store and a report (stored ones are filled in by the caller)."""
    nodes = dcat.dataset_nodes(graph)
    if not nodes:
        raise ConnectorError(Reason.BAD_INPUT, "the file holds no dcat:Dataset")
    forms = {node: _signature(graph, node) for node in nodes}
    representatives: dict[tuple, Any] = {}
    for node, form in forms.items():
        representatives.setdefault(form, node)
    by_form = _findings(graph, representatives)
    out = ImportReport()
    keep: list[Dataset] = []
    seen: set[str] = set()
    for node in nodes:
        iri = dcat.dataset_iri(graph, node)
        if iri in seen:
            continue
        seen.add(iri)
        findings = by_form[forms[node]]
        if fatal := [f.line() for f in findings if f.fatal]:
            out.rejected.append(Rejected(iri, fatal))
            continue
        try:
            keep.append(dcat.from_graph(graph, node, publisher, offers_for(iri), now))
        except ValueError as exc:
            out.rejected.append(Rejected(iri, [str(exc)]))
            continue
        if findings:
            out.warnings[iri] = [f.line() for f in findings]
    return keep, out
