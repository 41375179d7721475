"""A DSP catalog read dataset by dataset, each dataset's triples remembered by the digest of
its JSON: when a member changed 1% of its catalog, the next crawl parses 1% of it.

JSON-LD parsing is most of what a crawl of a big catalog costs. A page is read as its skeleton
(the catalog with references to its datasets) plus its datasets; the datasets not seen before
are parsed together, and their triples are told apart by what each dataset's JSON names (its
`@id`s, and the blank nodes hanging from them). A batch whose triples cannot all be told apart
that way is used as it is, and not remembered: the graph is always what a whole parse gives."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

import pyoxigraph as ox

from connector.crawler.blanks import stable
from connector.crawler.rdf import RdfProblem, jsonld_triples


def _described(value: Any, found: dict[str, str]) -> dict[str, str]:
    """Each `@id` named in VALUE -> its description as JSON ("" for a bare reference)."""
    if isinstance(value, dict):
        ident = value.get("@id")
        if isinstance(ident, str):
            text = json.dumps(value, sort_keys=True) if len(value) > 1 else ""
            found[ident] = max(found.get(ident, ""), text)
        for key, item in value.items():
            if key != "@id":
                _described(item, found)
    elif isinstance(value, list):
        for item in value:
            _described(item, found)
    return found


def _split(triples: list[ox.Triple], owners: dict[str, frozenset[str]]) -> dict[str, list[ox.Triple]] | None:
    """The triples of each dataset key (a node several datasets describe alike goes to each of
    them), or None when some triple belongs to none, or a blank node to two different sets."""
    edges: dict[ox.Term, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        edges[t.subject].append(t)
    owner_of: dict[ox.Term, frozenset[str]] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode) and t.subject.value in owners:
            owner_of[t.subject] = owners[t.subject.value]
    todo = list(owner_of)
    while todo:  # blank nodes belong to whoever reaches them
        node = todo.pop()
        for t in edges.get(node, []):
            if isinstance(t.object, ox.BlankNode):
                if owner_of.get(t.object, owner_of[node]) != owner_of[node]:
                    return None
                if t.object not in owner_of:
                    owner_of[t.object] = owner_of[node]
                    todo.append(t.object)
    parts: dict[str, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        keys = owner_of.get(t.subject)
        if keys is None:
            return None
        for key in keys:
            parts[key].append(t)
    return parts


class DatasetPieces:
    """Remembered triples of the datasets of one DSP catalog, by the digest of their JSON."""

    def __init__(self) -> None:
        self.known: dict[str, list[ox.Triple]] = {}
        self.seen: set[str] = set()  # in the catalog being read
        # page URL -> (its skeleton's triples, its datasets' keys): a page the provider says
        # is as before (304/412) is then rebuilt from memory, without fetching it again
        self.pages: dict[str, tuple[list[ox.Triple], list[str]]] = {}
        self.visited: set[str] = set()

    def start(self) -> None:
        self.seen, self.visited = set(), set()

    def finish(self) -> None:
        """Forget the datasets the catalog no longer holds, and the pages no longer served."""
        self.known = {k: v for k, v in self.known.items() if k in self.seen}
        self.pages = {u: p for u, p in self.pages.items() if u in self.visited}

    def has(self, url: str) -> bool:
        """Whether the page at URL can be rebuilt from memory (again)."""
        return url in self.pages and all(k in self.known for k in self.pages[url][1])

    def again(self, url: str, max_triples: int) -> list[ox.Triple]:
        """The triples of the page at URL as last read (has(url) must be true)."""
        skeleton, keys = self.pages[url]
        self.seen.update(keys)
        self.visited.add(url)
        return self._join(skeleton, keys, max_triples)

    def _join(self, out: list[ox.Triple], keys: list[str], max_triples: int) -> list[ox.Triple]:
        out = list(out)
        for key in keys:
            out += self.known.get(key, [])
        out = list(dict.fromkeys(out))  # what datasets share is in each of their pieces
        if len(out) > max_triples:
            raise RdfProblem(f"the document has more than {max_triples} triples")
        return out

    def page(self, doc: dict[str, Any], base: str, max_triples: int, url: str = "") -> list[ox.Triple]:
        """The triples of one catalog page (blank nodes labelled stably: blanks.py), parsing
        only the datasets not seen before; remembered as the page at URL when given."""
        found = doc.get("dataset", [])
        datasets = found if isinstance(found, list) else [found]
        context = json.dumps(doc.get("@context"), sort_keys=True)
        keyed = []
        self.pages.pop(url, None)
        for d in datasets:
            if not isinstance(d, dict) or not isinstance(d.get("@id"), str):
                return stable(jsonld_triples(doc, base, max_triples))  # nothing to key it by
            keyed.append((hashlib.sha256((context + json.dumps(d, sort_keys=True)).encode()).hexdigest(), d))
        self.seen.update(k for k, _ in keyed)
        skeleton = {**doc, "dataset": [{"@id": d["@id"]} for _, d in keyed]}
        out = stable(jsonld_triples(skeleton, base, max_triples))
        todo = [(k, d) for k, d in keyed if k not in self.known]
        if todo:
            batch = {"@context": doc.get("@context"), "@graph": [d for _, d in todo]}
            # stable labels first: a node described alike by many datasets then has one set of
            # blank nodes, not one per dataset that repeats it
            triples = stable(jsonld_triples(batch, base, max_triples - len(out)))
            owners: dict[str, set[str]] = defaultdict(set)
            descriptions: dict[str, str] = {}
            alike = True
            for key, d in todo:
                for iri, text in _described(d, {}).items():
                    if text:
                        # described by several datasets: each gets the triples only if all say
                        # the same (then the triples of one are the triples of each)
                        alike &= descriptions.setdefault(iri, text) == text
                        owners[iri].add(key)
            parts = _split(triples, {i: frozenset(k) for i, k in owners.items()}) if alike else None
            if parts is None:
                out += triples  # labelled stably already
            else:
                for key, _ in todo:
                    self.known[key] = parts.get(key, [])
        if url:
            self.pages[url] = (out, [k for k, _ in keyed])
            self.visited.add(url)
        return self._join(out, [k for k, _ in keyed], max_triples)
