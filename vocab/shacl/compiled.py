"""One compiled shape set at work: the shapes graph for a selection, handed to pySHACL.

The pySHACL shapes graph built for one selection is kept (LRU), so a presentation of a known
kind validates without any shape work; two workarounds keep pySHACL fast on the large
Gaia-X `sh:in` lists.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Generator
from functools import cache
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal

from vocab.shacl.index import ShapeIndex
from vocab.shacl.report import ValidationReport, read_results
from vocab.terms import rdflib_term


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

    def __init__(self, name: str, index: ShapeIndex, *, max_selections: int = 64) -> None:
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
        results = read_results(report, shapes.graph, self._index.parents)
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
