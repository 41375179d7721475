"""Which RDF format a DCAT file is in: by its name's suffix, else by how its content starts.

Kept apart from the importer (and free of RDF libraries) so that a command sending a file to a
serving node knows its media type without loading a parser.
"""

from __future__ import annotations

import re
from pathlib import Path

from connector.errors import ConnectorError, Reason

NAMES = {"turtle": "Turtle", "nt": "N-Triples", "n3": "N3", "xml": "RDF/XML", "json-ld": "JSON-LD"}
MEDIA_TYPES = {
    "turtle": "text/turtle", "nt": "application/n-triples", "n3": "text/n3",
    "xml": "application/rdf+xml", "json-ld": "application/ld+json",
}
ACCEPTED = (
    "DCAT files are read as Turtle (.ttl), RDF/XML (.rdf, .xml), N-Triples (.nt), N3 (.n3) "
    "or JSON-LD (.jsonld, .json)"
)
_SUFFIXES = {
    ".ttl": "turtle", ".turtle": "turtle", ".nt": "nt", ".n3": "n3",
    ".rdf": "xml", ".xml": "xml", ".owl": "xml", ".jsonld": "json-ld", ".json": "json-ld",
}
_TURTLE_START = re.compile(rb"(#|@prefix|@base|prefix\s|base\s|<|_:)", re.IGNORECASE)


def format_of(name: str, data: bytes) -> str:
    """The format NAME's suffix says, else what DATA starts like; BAD_INPUT if neither tells."""
    fmt = _SUFFIXES.get(Path(name).suffix.lower())
    if fmt:
        return fmt
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if head.startswith((b"{", b"[")):
        return "json-ld"
    if head.startswith((b"<?xml", b"<!DOCTYPE", b"<rdf:RDF")):
        return "xml"
    if _TURTLE_START.match(head):
        return "turtle"
    raise ConnectorError(Reason.BAD_INPUT, f"the format of {name} is not recognised; {ACCEPTED}")
