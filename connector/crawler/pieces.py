"""A DSP catalog read dataset by dataset, each dataset's triples remembered by the digest of
its JSON: when a member changed 1% of its catalog, the next crawl converts 1% of it.

A page is its skeleton (the catalog with references to its datasets) plus its datasets, each
converted alone (templates.py, or a parse of that dataset alone): without blank node labels
in the JSON, a node's triples depend only on its own subtree and the context, so the union of
the pieces is the graph a whole parse gives (blank nodes labelled stably: blanks.py). A page
that names blank nodes (`_:` labels may tie datasets together) is parsed whole, and not
remembered."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyoxigraph as ox

from connector.crawler.blanks import stable
from connector.crawler.rdf import RdfProblem, jsonld_triples
from connector.crawler.templates import Templates


def convert(templates: Templates, context: Any, context_key: str, node: dict[str, Any], base: str,
            max_triples: int) -> list[ox.Triple]:
    """NODE's triples, read in CONTEXT (CONTEXT_KEY: it as canonical JSON) as if it were a
    document of its own, blank nodes labelled stably."""
    triples = templates.triples(context, context_key, node, base, max_triples)
    if triples is None:
        triples = jsonld_triples({"@context": context, "@graph": [node]}, base, max_triples)
    return stable(triples)


class DatasetPieces:
    """Remembered triples of the datasets of one DSP catalog, by the digest of their JSON."""

    def __init__(self, templates: Templates | None = None) -> None:
        self.templates = templates or Templates()
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
            if len(out) > max_triples:
                raise RdfProblem(f"the document has more than {max_triples} triples")
        return list(dict.fromkeys(out))  # what datasets share is in each of their pieces

    def _node(self, context: Any, context_key: str, node: dict[str, Any], base: str,
              max_triples: int) -> list[ox.Triple]:
        return convert(self.templates, context, context_key, node, base, max_triples)

    def page(self, doc: dict[str, Any], base: str, max_triples: int, url: str = "") -> list[ox.Triple]:
        """The triples of one catalog page (blank nodes labelled stably: blanks.py), converting
        only the datasets not seen before; remembered as the page at URL when given."""
        found = doc.get("dataset", [])
        datasets = found if isinstance(found, list) else [found]
        context = doc.get("@context")
        context_key = json.dumps(context, sort_keys=True)
        self.pages.pop(url, None)
        keyed = []
        for d in datasets:
            if not isinstance(d, dict) or not isinstance(d.get("@id"), str):
                return stable(jsonld_triples(doc, base, max_triples))  # nothing to key it by
            text = json.dumps(d, sort_keys=True)
            if '"_:' in text:
                return stable(jsonld_triples(doc, base, max_triples))  # labels may tie pieces
            keyed.append((hashlib.sha256((context_key + text).encode()).hexdigest(), d))
        skeleton = {k: v for k, v in doc.items() if k != "@context"}
        skeleton["dataset"] = [{"@id": d["@id"]} for _, d in keyed]
        if '"_:' in json.dumps(skeleton):
            return stable(jsonld_triples(doc, base, max_triples))
        self.seen.update(k for k, _ in keyed)
        out = self._node(context, context_key, skeleton, base, max_triples)
        left = max_triples - len(out)
        for key, d in keyed:
            if key not in self.known:
                self.known[key] = self._node(context, context_key, d, base, left)
        if url:
            self.pages[url] = (out, [k for k, _ in keyed])
            self.visited.add(url)
        return self._join(out, [k for k, _ in keyed], max_triples)
