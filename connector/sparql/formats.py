"""Media types of SPARQL results and graphs, and content negotiation over the Accept header.

Shared by the HTTP process (to refuse an unacceptable Accept early) and the query workers
(which pick the format once they know the query form). Pure data: nothing here imports the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    SOLUTIONS = "solutions"  # SELECT
    BOOLEAN = "boolean"  # ASK
    GRAPH = "graph"  # CONSTRUCT, DESCRIBE


@dataclass(frozen=True)
class Format:
    media: str  # what goes into Content-Type
    name: str  # the pyoxigraph enum member (QueryResultsFormat.X or RdfFormat.X)
    aliases: tuple[str, ...] = ()


RESULT_FORMATS = (
    Format(
        "application/sparql-results+json",
        "JSON",
        ("application/json", "text/javascript", "application/javascript"),
    ),
    Format("application/sparql-results+xml", "XML", ("application/xml", "text/xml")),
    Format("text/csv", "CSV"),
    Format("text/tab-separated-values", "TSV"),
)
GRAPH_FORMATS = (
    Format("text/turtle", "TURTLE", ("application/x-turtle",)),
    Format("application/n-triples", "N_TRIPLES", ("text/plain",)),
    Format("application/ld+json", "JSON_LD", ("application/x-json+ld", "application/json")),
    Format("application/rdf+xml", "RDF_XML", ("application/xml", "text/xml")),
)
# CSV and TSV have no boolean form in the SPARQL 1.1 CSV/TSV note
BOOLEAN_FORMATS = RESULT_FORMATS[:2]

FORMATS = {Kind.SOLUTIONS: RESULT_FORMATS, Kind.BOOLEAN: BOOLEAN_FORMATS, Kind.GRAPH: GRAPH_FORMATS}
# short names accepted by `communs sparql --format`
SHORT_NAMES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
}

Preferences = list[tuple[str, float]]  # (media range, q), most preferred first


def parse_accept(header: str | None) -> Preferences:
    """The media ranges of an Accept header, best first; no header means anything."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    ranges: list[tuple[str, float, int]] = []
    for position, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        # more specific ranges win ties, then the client's order
        ranges.append((media, q, position - 1000 * _specificity(media)))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(media, q) for media, q, _ in ranges]


def _specificity(media_range: str) -> int:
    return 0 if media_range == "*/*" else 1 if media_range.endswith("/*") else 2


def _matches(media_range: str, fmt: Format) -> bool:
    if media_range == "*/*":
        return True
    if media_range.endswith("/*"):
        return fmt.media.startswith(media_range[:-1])
    return media_range == fmt.media or media_range in fmt.aliases


def _refused(fmt: Format, preferences: Preferences) -> bool:
    """Whether the most specific range that names `fmt` gives it q=0 (RFC 9110: not acceptable)."""
    best, quality = -1, None
    for media_range, q in preferences:
        specificity = _specificity(media_range)
        if specificity > best and _matches(media_range, fmt):
            best, quality = specificity, q
    return quality == 0.0


def choose(kind: Kind, preferences: Preferences) -> Format | None:
    """The client's preferred format among those of `kind`, else the query form's default.

    Clients send one Accept header whatever the query form (rdflib's SPARQLStore asks for SPARQL
    results even for a CONSTRUCT), so a header that names no format of this form gets the form's
    default (SPARQL JSON results, Turtle), as Jena Fuseki does; HTTP allows either that or 406.
    None (406) only when the header refuses every format of the form with q=0.
    """
    candidates = FORMATS[kind]
    for media_range, q in preferences:
        if q == 0.0:
            continue
        for fmt in candidates:
            if _matches(media_range, fmt) and not _refused(fmt, preferences):
                return fmt
    return next((fmt for fmt in candidates if not _refused(fmt, preferences)), None)


def acceptable_at_all(preferences: Preferences) -> bool:
    """Whether any query form could be answered (the header does not refuse every format we
    produce): lets the endpoint say 406 before running."""
    return any(choose(kind, preferences) is not None for kind in Kind)


def offered() -> list[str]:
    return sorted({f.media for formats in FORMATS.values() for f in formats})
