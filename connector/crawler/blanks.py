"""Blank nodes with labels that do not change from one crawl to the next.

A parser mints fresh blank nodes at every parse, so a source served twice identically would
differ in every triple that touches one (offers, permissions, constraints...), and an
incremental write would rewrite them all. Here each blank node is relabelled from what it is:
the hash of its own content, its blank children's included (bottom-up), combined with where it
hangs (its parent's label and the predicate, top-down). Two blank nodes get one label only
when they are identical subtrees under the same parent and predicate, where merging them
leaves the meaning unchanged."""

from __future__ import annotations

import hashlib
from collections import defaultdict

import pyoxigraph as ox

MAX_DEPTH = 64  # blank-node chains deeper than this keep their parser labels


def _h(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def stable(triples: list[ox.Triple]) -> list[ox.Triple]:
    triples = list(dict.fromkeys(triples))  # a parser may repeat a triple: count it once
    out_edges: dict[ox.BlankNode, list[tuple[str, ox.Term]]] = defaultdict(list)
    in_edges: dict[ox.BlankNode, list[tuple[ox.Term, str]]] = defaultdict(list)
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            out_edges[t.subject].append((str(t.predicate), t.object))
        if isinstance(t.object, ox.BlankNode):
            in_edges[t.object].append((t.subject, str(t.predicate)))
    if not out_edges and not in_edges:
        return triples
    down: dict[ox.BlankNode, str] = {}

    def content(b: ox.BlankNode, depth: int) -> str:
        if b in down:
            return down[b]
        if depth > MAX_DEPTH:
            return b.value
        down[b] = b.value  # a cycle back to b reads its parser label
        parts = sorted(f"{p} {content(o, depth + 1) if isinstance(o, ox.BlankNode) else str(o)}"
                       for p, o in out_edges.get(b, []))
        down[b] = _h("content", *parts)
        return down[b]

    labels: dict[ox.BlankNode, str] = {}

    def label(b: ox.BlankNode, depth: int) -> str:
        if b in labels:
            return labels[b]
        if depth > MAX_DEPTH:
            return b.value
        labels[b] = b.value  # a cycle through b reads its parser label
        where = sorted(f"{label(s, depth + 1) if isinstance(s, ox.BlankNode) else str(s)} {p}"
                       for s, p in in_edges.get(b, []))
        labels[b] = _h("at", where[0] if where else "", content(b, 0))
        return labels[b]

    nodes: dict[ox.BlankNode, ox.BlankNode] = {}

    def term(x: ox.Term) -> ox.Term:
        if not isinstance(x, ox.BlankNode):
            return x
        if x not in nodes:
            nodes[x] = ox.BlankNode("s" + label(x, 0))
        return nodes[x]

    return list(dict.fromkeys(ox.Triple(term(t.subject), t.predicate, term(t.object))
                              for t in triples))
