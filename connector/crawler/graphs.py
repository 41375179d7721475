"""Names of the crawled graphs and the provenance that describes them.

Each source of each member is one named graph, `urn:communs:federation:<kind>:<member DID>`;
the provenance graph says, for each, where it came from (dct:source, prov:wasDerivedFrom),
whose it is (prov:wasAttributedTo the member's DID), when it was fetched and last changed
(prov:generatedAtTime), and how it validated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

PREFIX = "urn:communs:federation:"
PROVENANCE = PREFIX + "provenance"
KINDS = ("did", "self-description", "dsp-catalog", "dcat")

PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
CRAWL = "https://w3id.org/communs/crawl#"  # our own terms, where PROV-O and DCTERMS have none


def graph_name(kind: str, did: str) -> str:
    return f"{PREFIX}{kind}:{did}"


@dataclass
class SourceState:
    """What the crawler knows of one source: enough to ask again conditionally, to tell a
    change, and to describe the graph."""

    kind: str
    member: str  # the member's DID
    url: str
    digest: str = ""  # SHA-256 of what was served (all pages, in order)
    validators: dict[str, list[str | None]] = field(default_factory=dict)  # page URL -> [ETag, Last-Modified]
    fetched_at: str = ""  # last successful fetch (xsd:dateTime)
    changed_at: str = ""  # when the graph was last rewritten
    validation: str = "not-checked"  # conforms | invalid | not-checked
    problems: list[str] = field(default_factory=list)
    triples: int = 0
    datasets: int = 0

    @property
    def graph(self) -> str:
        return graph_name(self.kind, self.member)


def _lit(value: str, datatype: str | None = None) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype)) if datatype else ox.Literal(value)


def _iri_or_literal(value: str) -> ox.NamedNode | ox.Literal:
    try:
        return ox.NamedNode(value)
    except ValueError:
        return ox.Literal(value)


def provenance(states: Iterable[SourceState]) -> list[ox.Triple]:
    """The provenance graph's triples for these sources."""
    out: list[ox.Triple] = []
    for s in states:
        g = ox.NamedNode(s.graph)
        member = _iri_or_literal(s.member)
        source = _iri_or_literal(s.url)
        out += [
            ox.Triple(g, RDF_TYPE, ox.NamedNode(PROV + "Entity")),
            ox.Triple(g, ox.NamedNode(DCT + "source"), source),
            ox.Triple(g, ox.NamedNode(PROV + "wasDerivedFrom"), source),
            ox.Triple(g, ox.NamedNode(PROV + "wasAttributedTo"), member),
            ox.Triple(g, ox.NamedNode(CRAWL + "kind"), _lit(s.kind)),
            ox.Triple(g, ox.NamedNode(CRAWL + "validation"), _lit(s.validation)),
            ox.Triple(g, ox.NamedNode(CRAWL + "digest"), _lit(s.digest)),
            ox.Triple(g, ox.NamedNode(CRAWL + "triples"), _lit(str(s.triples), "integer")),
        ]
        if s.kind in ("dsp-catalog", "dcat"):
            out.append(ox.Triple(g, ox.NamedNode(CRAWL + "datasets"), _lit(str(s.datasets), "integer")))
        if s.fetched_at:
            out.append(ox.Triple(g, ox.NamedNode(CRAWL + "fetchedAt"), _lit(s.fetched_at, "dateTime")))
        if s.changed_at:
            out.append(ox.Triple(g, ox.NamedNode(PROV + "generatedAtTime"), _lit(s.changed_at, "dateTime")))
            out.append(ox.Triple(g, ox.NamedNode(DCT + "modified"), _lit(s.changed_at, "dateTime")))
        out += [ox.Triple(g, ox.NamedNode(CRAWL + "problem"), _lit(p[:1000])) for p in s.problems]
        if isinstance(member, ox.NamedNode):
            out.append(ox.Triple(member, RDF_TYPE, ox.NamedNode(PROV + "Agent")))
    return out
