"""The root error of the policies package: a closed reason and one clear sentence.

Only malformed input raises. Evaluation outcomes (allowed, denied, unevaluable) are values:
see `policies.evaluate.Decision`.
"""

from __future__ import annotations

from enum import StrEnum


class PolicyReason(StrEnum):
    NOT_JSON = "not-json"
    INVALID_JSONLD = "invalid-jsonld"
    INVALID_RDF = "invalid-rdf"
    NO_POLICY = "no-policy"
    AMBIGUOUS_POLICY = "ambiguous-policy"
    INVALID_POLICY_TYPE = "invalid-policy-type"
    MISSING_PROPERTY = "missing-property"
    INVALID_VALUE = "invalid-value"
    UNKNOWN_CONFLICT_STRATEGY = "unknown-conflict-strategy"
    CYCLE = "cycle"
    TOO_LARGE = "too-large"


class PolicyError(Exception):
    def __init__(self, reason: PolicyReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
