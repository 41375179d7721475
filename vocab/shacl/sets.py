"""The named shape sets: which vendored Turtle files make each one, and how to parse them.

Shapes are parsed with pyoxigraph (about 5x faster than rdflib's parser) for compiling;
`full_graph` parses a whole set with rdflib itself, as the independent reference that tests
compare pre-selection against.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from vocab.errors import VocabError, VocabReason

GX_2511 = "https://w3id.org/gaia-x/2511#"
GX_DEVELOPMENT = "https://w3id.org/gaia-x/development#"


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
    # "communs-dates" is ours: the upstream shapes check no dataset date (see its header)
    "dcat-ap-3.0.1": ShapeSetSpec(
        tuple(
            f"dcat-ap-3.0.1-{part}.ttl"
            for part in ("shapes", "range", "shapes_recommended", "communs-dates")
        )
    ),
}


def shape_set(name: str) -> ShapeSetSpec:
    try:
        return SHAPE_SETS[name]
    except KeyError:
        raise VocabError(VocabReason.UNKNOWN_SHAPES, f"unknown shape set {name!r}") from None


def shape_file(name: str) -> bytes:
    """A vendored shape file as it is on disk."""
    return (resources.files("vocab") / "shapes" / name).read_bytes()


def _texts(spec: ShapeSetSpec) -> Iterator[tuple[str, bytes]]:
    for name in spec.files:
        data = shape_file(name)
        for old, new in spec.rewrites:  # the whole text, as the upstream copies differ
            data = data.replace(old.encode(), new.encode())
        yield name, data


def turtle_triples(data: bytes, file_index: int) -> Iterator[ox.Triple]:
    """Turtle -> pyoxigraph triples. Blank-node labels are only unique per file: they get the
    file's index as a prefix."""

    def relabel(t: Any) -> Any:
        return ox.BlankNode(f"f{file_index}{t.value}") if isinstance(t, ox.BlankNode) else t

    for q in ox.parse(data, format=ox.RdfFormat.TURTLE):
        if file_index == 0:  # nothing to tell apart yet: keep pyoxigraph's triple as is
            yield q.triple
        else:
            yield ox.Triple(relabel(q.subject), q.predicate, relabel(q.object))


def parse(spec: ShapeSetSpec) -> list[ox.Triple]:
    triples: list[ox.Triple] = []
    for i, (name, data) in enumerate(_texts(spec)):
        try:
            triples.extend(turtle_triples(data, i))
        except SyntaxError as exc:
            raise VocabError(VocabReason.MALFORMED_RDF, f"shape file {name}: {exc}") from None
    return triples


def full_graph(name: str) -> Graph:
    """The whole shapes graph of a set, parsed by rdflib (slow: seconds for the Gaia-X sets)."""
    graph = Graph()
    for _name, data in _texts(shape_set(name)):
        graph.parse(data=data.decode("utf-8"), format="turtle")
    return graph
