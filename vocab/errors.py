"""The root error of the vocab package: a closed reason and one clear sentence."""

from __future__ import annotations

from enum import StrEnum


class VocabReason(StrEnum):
    UNBUNDLED_CONTEXT = "unbundled-context"
    MALFORMED_JSONLD = "malformed-jsonld"
    MALFORMED_RDF = "malformed-rdf"
    UNKNOWN_SHAPES = "unknown-shapes"


class VocabError(Exception):
    def __init__(self, reason: VocabReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
