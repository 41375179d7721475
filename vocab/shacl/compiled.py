"""A SHACL shapes registry: named shape sets, parsed once, cached on disk, validated fast.

Why not hand pySHACL the whole shapes graph: the Gaia-X 25.11 set is ~165k triples (mostly
`sh:in` lists); parsing it takes seconds and wrapping it costs pySHACL a walk over every shape
on each call. Instead each set is compiled once into an index: for every shape that has a
target, the closure of its triples (everything reachable from it through subjects of the
shapes graph: property shapes, `sh:node`/`sh:or` operands, RDF lists). A data graph then gets
a shapes graph made of only the shapes whose targets can match it (its classes and their data
superclasses, its predicates, and every `sh:targetNode` / SHACL-AF target shape, which are
always kept). A shape that is left out has no focus node in the data, so it cannot add a
result: selection does not change the report. The pySHACL shapes graph built for one
selection is kept (LRU), so a presentation of a known kind validates without any shape work.

The compiled index is pickled in a cache folder keyed by the shape files' hash and the
rdflib / pySHACL / pyoxigraph versions; a warm node loads it in milliseconds (measured
against rdflib Turtle, a pickled rdflib Graph and N-Triples: bench/bench_shacl.py). The
folder belongs to the node's operator (like any cache, whoever can write it can run code).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from collections import OrderedDict
from collections.abc import Generator, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDF, RDFS, SH

from vocab.errors import VocabError, VocabReason
from vocab.terms import rdflib_term

GX_2511 = "https://w3id.org/gaia-x/2511#"
GX_DEVELOPMENT = "https://w3id.org/gaia-x/development#"
_FORMAT = 3  # bump when the pickled index layout changes


@dataclass(frozen=True)
class ShapeSetSpec:
    files: tuple[str, ...]
    # (from, to) IRI prefix rewrites applied to the shape text at load time, so one vendored
    # file serves a namespace variant that upstream publishes as a byte-for-byte copy.
    rewrites: tuple[tuple[str, str], ...] = ()


SHAPE_SETS: dict[str, ShapeSetSpec] = {
    "gaiax-loire-25.11": ShapeSetSpec(("gaiax-loire-25.11.ttl",)),
    "gaiax-loire-25.11-development": ShapeSetSpec(
        ("gaiax-loire-25.11.ttl",), ((GX_2511, GX_DEVELOPMENT),)
    ),
    "gaiax-tagus-22.10": ShapeSetSpec(("gaiax-tagus-22.10.ttl",)),
    "dcat-ap-3.0.1": ShapeSetSpec(
        tuple(f"dcat-ap-3.0.1-{part}.ttl" for part in ("shapes", "range", "shapes_recommended"))
    ),
}


# ---------------------------------------------------------------------------- report values


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


# ---------------------------------------------------------------------------- parsing


def _triples(data: bytes, file_index: int) -> Iterator[ox.Triple]:
    """Turtle -> pyoxigraph triples (~5x faster than rdflib's parser). Blank-node labels are
    only unique per file: they get the file's index as a prefix."""

    def relabel(t: Any) -> Any:
        return ox.BlankNode(f"f{file_index}{t.value}") if isinstance(t, ox.BlankNode) else t

    for q in ox.parse(data, format=ox.RdfFormat.TURTLE):
        if file_index == 0:  # nothing to tell apart yet: keep pyoxigraph's triple as is
            yield q.triple
        else:
            yield ox.Triple(relabel(q.subject), q.predicate, relabel(q.object))


def _parse(spec: ShapeSetSpec) -> list[ox.Triple]:
    triples: list[ox.Triple] = []
    for i, name in enumerate(spec.files):
        data = (resources.files("vocab") / "shapes" / name).read_bytes()
        for old, new in spec.rewrites:  # the whole text, as the upstream copies differ
            data = data.replace(old.encode(), new.encode())
        try:
            triples.extend(_triples(data, i))
        except SyntaxError as exc:
            raise VocabError(VocabReason.MALFORMED_RDF, f"shape file {name}: {exc}") from None
    return triples


def full_graph(name: str) -> Graph:
    """The whole shapes graph of a set, parsed by rdflib itself: the independent reference
    that tests compare pre-selection against (slow: seconds for the Gaia-X sets)."""
    spec = _spec(name)
    graph = Graph()
    for file in spec.files:
        data = (resources.files("vocab") / "shapes" / file).read_bytes()
        for old, new in spec.rewrites:
            data = data.replace(old.encode(), new.encode())
        graph.parse(data=data.decode("utf-8"), format="turtle")
    return graph


def _spec(name: str) -> ShapeSetSpec:
    try:
        return SHAPE_SETS[name]
    except KeyError:
        raise VocabError(VocabReason.UNKNOWN_SHAPES, f"unknown shape set {name!r}") from None


# ---------------------------------------------------------------------------- the index


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(str(value))


_TYPE, _SUBCLASS, _PROPERTY = _iri(RDF.type), _iri(RDFS.subClassOf), _iri(SH.property)
_TARGET_CLASS, _SUBJECTS_OF, _OBJECTS_OF = (
    _iri(SH.targetClass),
    _iri(SH.targetSubjectsOf),
    _iri(SH.targetObjectsOf),
)
_ALWAYS = (_iri(SH.targetNode), _iri(SH.target))  # targetNode focus nodes need not be in the data
_CLASSES = (_iri(RDFS.Class), _iri("http://www.w3.org/2002/07/owl#Class"))


@dataclass
class _Index:
    by_class: dict[str, list[str]] = field(default_factory=dict)
    by_subjects_of: dict[str, list[str]] = field(default_factory=dict)
    by_objects_of: dict[str, list[str]] = field(default_factory=dict)
    always: list[str] = field(default_factory=list)
    common: bytes = b""  # N-Triples every selection carries (rdfs:Class subclasses, for pySHACL)
    closures: dict[str, bytes] = field(default_factory=dict)  # shape -> its closure, N-Triples
    parents: dict[str, str] = field(default_factory=dict)  # property shape -> its node shape

    def select(self, graph: Graph) -> frozenset[str]:
        classes = {str(o) for o in graph.objects(None, RDF.type)}
        supers: dict[str, set[str]] = {}
        for s, o in graph.subject_objects(RDFS.subClassOf):
            supers.setdefault(str(s), set()).add(str(o))
        todo = list(classes)
        while todo:  # pySHACL matches instances of data-graph subclasses of a target class
            for sup in supers.get(todo.pop(), ()):
                if sup not in classes:
                    classes.add(sup)
                    todo.append(sup)
        predicates = {str(p) for p in graph.predicates(None, None)}
        chosen = set(self.always)
        for c in classes:
            chosen.update(self.by_class.get(c, ()))
        for p in predicates:
            chosen.update(self.by_subjects_of.get(p, ()))
            chosen.update(self.by_objects_of.get(p, ()))
        return frozenset(chosen)


def _value(term: Any) -> str:
    return str(term.value)


def _ntriples(triples: Iterable[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


def _compile(triples: list[ox.Triple]) -> _Index:
    """Index the shapes by target; keys are N-Triples terms ("<iri>", "_:b0")."""
    by_subject: dict[Any, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    index = _Index()
    common = [t for t in triples if t.predicate == _SUBCLASS and t.object in _CLASSES]
    class_types = set(_CLASSES) | {t.subject for t in common}
    index.common = _ntriples(common)
    roots: set[Any] = set()
    for t in triples:
        p, o, key = t.predicate, t.object, str(t.subject)
        if p == _TARGET_CLASS:
            index.by_class.setdefault(_value(o), []).append(key)
        elif p == _SUBJECTS_OF:
            index.by_subjects_of.setdefault(_value(o), []).append(key)
        elif p == _OBJECTS_OF:
            index.by_objects_of.setdefault(_value(o), []).append(key)
        elif p in _ALWAYS:
            index.always.append(key)
        elif p == _TYPE and o in class_types and isinstance(t.subject, ox.NamedNode):
            index.by_class.setdefault(t.subject.value, []).append(key)  # implicit class target
        else:
            continue
        roots.add(t.subject)
    for t in triples:
        if t.predicate == _PROPERTY and isinstance(t.subject, ox.NamedNode):
            index.parents[str(t.object)] = t.subject.value
    for root in roots:  # everything reachable through subjects: property shapes, lists, operands
        seen, todo, closure = {root}, [root], []
        while todo:
            for t in by_subject.get(todo.pop(), ()):
                closure.append(t)
                if t.object in by_subject and t.object not in seen:
                    seen.add(t.object)
                    todo.append(t.object)
        index.closures[str(root)] = _ntriples(closure)
    for targets in (index.by_class, index.by_subjects_of, index.by_objects_of):
        for k in targets:
            targets[k] = sorted(set(targets[k]))
    index.always = sorted(set(index.always))
    return index


def _fingerprint(spec: ShapeSetSpec) -> str:
    h = hashlib.sha256(f"format={_FORMAT};rewrites={spec.rewrites}".encode())
    for dist in ("rdflib", "pyshacl", "pyoxigraph"):
        h.update(f";{dist}={metadata.version(dist)}".encode())
    for name in spec.files:
        h.update(name.encode())
        h.update((resources.files("vocab") / "shapes" / name).read_bytes())
    return h.hexdigest()[:24]


def default_cache_dir() -> Path:
    env = os.environ.get("COMMUNS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "communs"


# ---------------------------------------------------------------------------- compiled sets


class _ListCachingGraph(Graph):
    """A shapes graph that reads each RDF list once.

    pySHACL rebuilds its sh:in constraints on every validation, walking the list with
    Graph.items each time: for the 25.11 address shapes (country and NUTS lists) that was
    three quarters of a participant's validation time. The graph does not change once built;
    any addition clears the memo anyway.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lists: dict[Any, tuple[Any, ...]] = {}

    def items(self, list: Any) -> Generator[Any, None, None]:  # noqa: A002 (rdflib's name)
        found = self._lists.get(list)
        if found is None:
            found = self._lists[list] = tuple(super().items(list))
        yield from found

    def add(self, triple: Any) -> Any:
        if triple not in self:  # pySHACL re-adds its system triples on every run
            self._lists.clear()
        return super().add(triple)


class CompiledShapes:
    """One shape set: its index plus an LRU of pySHACL shapes graphs, one per selection."""

    def __init__(self, name: str, index: _Index, *, max_selections: int = 64) -> None:
        self.name = name
        self._index = index
        self._max = max_selections
        self._graphs: OrderedDict[frozenset[str], tuple[Any, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def shape_count(self) -> int:
        return len(self._index.closures)

    def select(self, data: Graph) -> frozenset[str]:
        return self._index.select(data)

    def shapes_graph(self, selection: frozenset[str]) -> Graph:
        graph = _ListCachingGraph()
        for blob in [self._index.common] + [self._index.closures[k] for k in sorted(selection)]:
            for q in ox.parse(blob, format=ox.RdfFormat.N_TRIPLES):
                graph.add((rdflib_term(q.subject), rdflib_term(q.predicate), rdflib_term(q.object)))
        return graph

    def _pyshacl_graph(self, selection: frozenset[str]) -> tuple[Any, threading.Lock]:
        from pyshacl.shapes_graph import ShapesGraph

        with self._lock:
            entry = self._graphs.get(selection)
            if entry is not None:
                self._graphs.move_to_end(selection)
                return entry
        entry = (ShapesGraph(self.shapes_graph(selection)), threading.Lock())
        with self._lock:
            entry = self._graphs.setdefault(selection, entry)
            while len(self._graphs) > self._max:
                self._graphs.popitem(last=False)
        return entry

    def validate(self, data: Graph, *, preselect: bool = True) -> ValidationReport:
        """Validate DATA (an rdflib Graph; not modified). preselect=False uses every shape."""
        selection = self.select(data) if preselect else frozenset(self._index.closures)
        if not selection:
            return ValidationReport(True, (), self.name)
        shapes, lock = self._pyshacl_graph(selection)
        with lock:  # pySHACL fills lazy caches on its shapes while validating
            conforms, report = _run(shapes, data)
        results = _results(report, shapes.graph, self._index.parents)
        return ValidationReport(conforms, tuple(results), self.name)


def _run(shapes: Any, data: Graph) -> tuple[bool, Graph]:
    from pyshacl.graph_abstraction import DataGraph

    validator = _validator_class()(
        DataGraph.from_rdflib(data), shacl_graph=shapes.graph, options={"inplace": True}
    )
    validator.shacl_graph = shapes  # reuse the prepared shapes instead of a fresh wrapper
    conforms, report, _ = validator.run()
    return bool(conforms), report


@cache
def _validator_class() -> type:
    """pySHACL's Validator, minus the copy of each result's source shape into the report.

    pySHACL clones a blank-node source shape with its RDF lists into the report graph using
    rdflib's Collection.append, which is quadratic: one wrong value against the 5,000-entry
    `sh:in` of gx:LeiCodeShape took 180 s. We only read ids from the report, so results keep
    the shapes-graph nodes as they are (paths are rendered from the shapes graph).
    """
    from pyshacl.consts import RDF_type, SH_conforms, SH_result, SH_ValidationReport
    from pyshacl.validator import Validator

    class _Light(Validator):  # type: ignore[misc]
        @classmethod
        def create_validation_report(cls, sg: Any, conforms: bool, results: list) -> Any:
            vg = Graph()
            vr = BNode()
            vg.add((vr, RDF_type, SH_ValidationReport))
            vg.add((vr, SH_conforms, Literal(conforms)))
            for _text, node, triples in results:
                vg.add((vr, SH_result, node))
                for s, p, o in triples:
                    vg.add((s, p, o[1] if isinstance(o, tuple) else o))
            return vg, ""

    return _Light


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


def _results(report: Graph, shapes: Graph, parents: dict[str, str]) -> Iterator[ValidationResult]:
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


# ---------------------------------------------------------------------------- the registry


def _trusted(path: Path) -> bool:
    """A pickle runs code when loaded: only load one that we own and nobody else can change."""
    for item in (path, path.parent):
        info = item.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            return False
    return True


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
        spec = _spec(name)
        found = self._sets.get(name)
        if found is not None:
            return found
        with self._locks[name]:
            found = self._sets.get(name)
            if found is None:
                found = self._sets[name] = CompiledShapes(name, self._load(name, spec))
        return found

    def _cache_file(self, name: str, spec: ShapeSetSpec) -> Path:
        return self.cache_dir / "shacl" / f"{name}-{_fingerprint(spec)}.pickle"

    def _load(self, name: str, spec: ShapeSetSpec) -> _Index:
        path = self._cache_file(name, spec)
        try:
            if not _trusted(path):
                raise PermissionError(path)
            with path.open("rb") as f:
                index = pickle.load(f)
            if isinstance(index, _Index):
                return index
        except Exception:  # noqa: BLE001 - missing, truncated, foreign: any bad cache is rebuilt
            pass
        index = _compile(_parse(spec))
        try:  # write-then-rename so a concurrent reader never sees half a file
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            with tmp.open("wb") as f:
                pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home is no reason to fail: the next start parses again
        return index

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
