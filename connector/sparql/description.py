"""The endpoint's service description (SPARQL 1.1 Service Description vocabulary)."""

from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox

from connector.sparql.engine import Limits

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
)
PREFIXES = {"sd": SD, "formats": FORMATS, "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def describe(endpoint: str, limits: Limits) -> list[ox.Triple]:
    anonymous, member = limits.anonymous, limits.member
    service = ox.NamedNode(endpoint)
    dataset, graph = ox.BlankNode("dataset"), ox.BlankNode("defaultGraph")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), service),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        # the default graph is the union of the named graphs (one per dataset, one self-description)
        # unless the query (FROM, FROM NAMED) or the request (default-graph-uri, named-graph-uri)
        # names the dataset
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(
            service,
            _sd("defaultEntailmentRegime"),
            ox.NamedNode("http://www.w3.org/ns/entailment/Simple"),
        ),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), graph),
        ox.Triple(graph, RDF_TYPE, _sd("Graph")),
        ox.Triple(
            service,
            RDFS_COMMENT,
            ox.Literal(
                "Read-only: SPARQL Update and SERVICE are refused. The default graph is the "
                "union of all graphs unless the query (FROM, FROM NAMED) or the request "
                "(default-graph-uri, named-graph-uri) names the dataset. "
                f"A query is stopped after {anonymous.timeout:g} s ({member.timeout:g} s for "
                "members); results are limited to "
                f"{limits.max_result_bytes} bytes. Queries that one caller (an address, or a "
                f"member's DID) may run at once: {anonymous.running} ({member.running} for "
                f"members), and queue beyond those: {anonymous.waiting} ({member.waiting}); "
                "past that the answer is 429 with Retry-After."
            ),
        ),
    ]
    triples += [
        ox.Triple(service, _sd("resultFormat"), ox.NamedNode(FORMATS + f)) for f in RESULT_FORMATS
    ]
    return triples


@lru_cache(maxsize=64)
def serialized(endpoint: str, limits: Limits, format_name: str) -> bytes:
    fmt = getattr(ox.RdfFormat, format_name)
    prefixes = PREFIXES if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
    return ox.serialize(describe(endpoint, limits), format=fmt, prefixes=prefixes)
