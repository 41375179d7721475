"""A small node map (subject -> predicate -> values) built from expanded JSON-LD or RDF.

Both inputs of the parser end up here, so that one builder reads either. Values are
`{"@id": iri}`, `{"@value": v, "@type": datatype}` or `{"@list": [...]}` as in JSON-LD.
"""

from __future__ import annotations

import itertools
from typing import Any

from policies.errors import PolicyError, PolicyReason
from policies.terms import RDF

MAX_NODES = 20_000  # a policy is small; anything bigger is refused, not walked

Node = dict[str, list[dict[str, Any]]]


class NodeMap:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self._blank = itertools.count()

    def node(self, ident: str) -> Node:
        found = self.nodes.get(ident)
        if found is None:
            if len(self.nodes) >= MAX_NODES:
                raise PolicyError(PolicyReason.TOO_LARGE, f"more than {MAX_NODES} nodes")
            found = self.nodes[ident] = {}
        return found

    def types(self, ident: str) -> list[str]:
        return [v["@id"] for v in self.nodes.get(ident, {}).get("@type", []) if "@id" in v]

    # --- from expanded JSON-LD -------------------------------------------------------------

    def add_expanded(self, items: list[Any]) -> None:
        for item in items:
            if isinstance(item, dict):
                self._embed(item)

    def _embed(self, obj: dict[str, Any]) -> dict[str, Any]:
        if "@value" in obj:
            return {"@value": obj["@value"], "@type": obj.get("@type")}
        if "@list" in obj:
            return {"@list": [self._embed(x) for x in obj["@list"] if isinstance(x, dict)]}
        if "@graph" in obj and "@id" not in obj:
            self.add_expanded(obj["@graph"])
            return {"@id": "_:graph"}
        ident = obj.get("@id") or f"_:n{next(self._blank)}"
        node = self.node(ident)
        for key, values in obj.items():
            if key == "@id":
                continue
            if key == "@type":
                node.setdefault("@type", []).extend({"@id": t} for t in values)
                continue
            if key.startswith("@"):
                continue
            if key == "@graph":
                continue
            out = node.setdefault(key, [])
            for value in values:
                if isinstance(value, dict):
                    out.append(self._embed(value))
        return {"@id": ident}

    # --- from an rdflib graph --------------------------------------------------------------

    def add_rdf(self, graph: Any) -> None:
        from rdflib import BNode, URIRef
        from rdflib import Literal as RLiteral

        def term(t: Any) -> dict[str, Any]:
            if isinstance(t, URIRef):
                return {"@id": str(t)}
            if isinstance(t, BNode):
                return {"@id": f"_:{t}"}
            assert isinstance(t, RLiteral)
            return {"@value": str(t), "@type": str(t.datatype) if t.datatype else None}

        for s, p, o in sorted(graph, key=lambda t: (str(t[0]), str(t[1]), str(t[2]))):
            subject = term(s)["@id"]
            key = "@type" if str(p) == RDF + "type" else str(p)
            self.node(subject).setdefault(key, []).append(term(o))

    # --- reading ---------------------------------------------------------------------------

    def values(self, ident: str, prop: str) -> list[dict[str, Any]]:
        """PROP's values of IDENT, RDF collections and @list unrolled."""
        out: list[dict[str, Any]] = []
        for value in self.nodes.get(ident, {}).get(prop, []):
            if "@list" in value:
                out.extend(value["@list"])
            elif "@id" in value and self._is_list(value["@id"]):
                out.extend(self._unroll(value["@id"]))
            else:
                out.append(value)
        return out

    def _is_list(self, ident: str) -> bool:
        node = self.nodes.get(ident)
        return bool(node) and RDF + "first" in node  # type: ignore[operator]

    def _unroll(self, ident: str) -> list[dict[str, Any]]:
        out, seen = [], set()
        while ident != RDF + "nil" and ident not in seen:
            seen.add(ident)
            node = self.nodes.get(ident, {})
            out.extend(node.get(RDF + "first", []))
            rest = node.get(RDF + "rest", [])
            if not rest or "@id" not in rest[0]:
                break
            ident = rest[0]["@id"]
        return out
