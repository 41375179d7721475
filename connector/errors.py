"""The root error of the connector: every domain error carries a closed reason and an HTTP status.

One middleware maps these to problem+json (management API) or DSP error messages; the CLI
prints the message as one sentence and exits 1.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    BAD_CONFIG = "bad-config"
    BAD_INPUT = "bad-input"
    NOT_FOUND = "not-found"
    CONFLICT = "conflict"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    KEYSTORE = "keystore"
    DID_RESOLUTION = "did-resolution"
    INVALID_CREDENTIAL = "invalid-credential"
    INVALID_SELF_DESCRIPTION = "invalid-self-description"
    TOO_LARGE = "too-large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    STORAGE = "storage"
    UNAVAILABLE = "unavailable"  # a service the answer depends on (the ledger) does not answer


_STATUS = {
    Reason.BAD_CONFIG: 500,
    Reason.BAD_INPUT: 400,
    Reason.NOT_FOUND: 404,
    Reason.CONFLICT: 409,
    Reason.UNAUTHORIZED: 401,
    Reason.FORBIDDEN: 403,
    Reason.KEYSTORE: 500,
    Reason.DID_RESOLUTION: 502,
    Reason.INVALID_CREDENTIAL: 400,
    Reason.INVALID_SELF_DESCRIPTION: 400,
    Reason.TOO_LARGE: 413,
    Reason.UNSUPPORTED_MEDIA_TYPE: 415,
    Reason.STORAGE: 500,
    Reason.UNAVAILABLE: 503,
}


class ConnectorError(Exception):
    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def status(self) -> int:
        return _STATUS[self.reason]
