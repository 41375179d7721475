"""A member's catalog as the crawler holds it between crawls: the catalog's own triples, and
for each dataset the hash the member's manifest gave and the dataset's triples (its link from
the catalog included). Each triple is counted over the pieces that hold it (a publisher that
every dataset names is in each of them), so that changing a few datasets yields what the graph
gains and loses, written as such, instead of the whole graph again."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

BASE = ""  # the piece holding the catalog's own triples


class Held:
    def __init__(self) -> None:
        self.hashes: dict[str, str] = {}  # dataset IRI -> the manifest's hash of it
        self._pieces: dict[str, list[ox.Triple]] = {}
        self._counts: Counter[ox.Triple] = Counter()
        self._before: dict[ox.Triple, bool] = {}  # touched since the last delta: was it there?

    def __bool__(self) -> bool:
        return bool(self._pieces)

    def __len__(self) -> int:
        return len(self._counts)  # distinct triples

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def put(self, key: str, triples: Iterable[ox.Triple]) -> None:
        """The piece KEY (a dataset IRI, or BASE) is now TRIPLES."""
        self.drop(key)
        piece = list(dict.fromkeys(triples))
        self._pieces[key] = piece
        for t in piece:
            self._before.setdefault(t, t in self._counts)
            self._counts[t] += 1

    def drop(self, key: str) -> None:
        for t in self._pieces.pop(key, []):
            self._before.setdefault(t, True)
            self._counts[t] -= 1
            if not self._counts[t]:
                del self._counts[t]
        self.hashes.pop(key, None)

    def keys(self) -> set[str]:
        return set(self._pieces) - {BASE}

    def delta(self) -> tuple[list[ox.Triple], list[ox.Triple]]:
        """What the graph lost and gained since the last delta."""
        gone = [t for t, was in self._before.items() if was and t not in self._counts]
        new = [t for t, was in self._before.items() if not was and t in self._counts]
        self._before = {}
        return gone, new

    def triples(self) -> list[ox.Triple]:
        """The whole graph."""
        self._before = {}
        return list(self._counts)


def _reach(starts: Iterable[ox.Term], edges: dict[ox.Term, list[ox.Triple]],
           stop: dict[ox.NamedNode, str]) -> tuple[list[ox.Triple], set[ox.Term]]:
    """The triples reachable from STARTS, through described nodes, never into STOP's."""
    found: list[ox.Triple] = []
    seen = set(starts)
    todo = list(seen)
    while todo:
        for t in edges.get(todo.pop(), ()):
            found.append(t)
            o = t.object
            if o not in seen and o not in stop and o in edges:
                seen.add(o)
                todo.append(o)
    return found, seen


def split(triples: list[ox.Triple], datasets: Iterable[str]) -> tuple[list[ox.Triple], dict[str, list[ox.Triple]]]:
    """TRIPLES of one document cut into the catalog's own and each dataset's: what a dataset
    reaches (through the nodes the document describes, never into another dataset) and the
    triples that point at it; the catalog's own are what the rest reaches. A node reached from
    two places (a publisher) is in each."""
    iris = {ox.NamedNode(i): i for i in datasets}
    edges: dict[ox.Term, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        edges[t.subject].append(t)
    pieces: dict[str, list[ox.Triple]] = {}
    reached: set[ox.Term] = set()
    for node, iri in iris.items():
        pieces[iri], seen = _reach([node], edges, iris)
        reached |= seen
    base, _ = _reach([s for s in edges if s not in reached], edges, iris)
    links = [t for t in base if t.object in iris]
    for t in links:
        pieces[iris[t.object]].append(t)  # type: ignore[index]
    return [t for t in base if t.object not in iris], pieces
