"""A shape set compiled into an index by target, and the selection of the shapes that a data
graph can trigger.

For every shape that has a target, the index keeps the closure of its triples: everything
reachable from it through subjects of the shapes graph (property shapes, `sh:node`/`sh:or`
operands, RDF lists). A data graph then needs only the shapes whose targets can match it: its
classes and their data superclasses, its predicates, and every `sh:targetNode` / SHACL-AF target
shape, which are always kept. A shape that is left out has no focus node in the data, so it
cannot add a result: selection does not change the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import RDF, RDFS, SH


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
class ShapeIndex:
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


def compile_index(triples: list[ox.Triple]) -> ShapeIndex:
    """Index the shapes by target; keys are N-Triples terms ("<iri>", "_:b0")."""
    by_subject: dict[Any, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    index = ShapeIndex()
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
