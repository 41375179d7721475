"""The root error of the ledger package: every ledger error carries a closed reason.

The CLI prints `str(err)` as one sentence and exits 1; peers that send something that raises
`DecodeError` or `InvalidError` are penalized by the node, never crash it.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    BAD_INPUT = "bad-input"
    DECODE = "decode"
    INVALID = "invalid"
    SIGNATURE = "signature"
    DOUBLE_SIGN = "double-sign"
    NOT_FOUND = "not-found"
    CONFIG = "config"
    UNAVAILABLE = "unavailable"


class LedgerError(Exception):
    """Root of every error raised by `ledger`."""

    reason: Reason = Reason.BAD_INPUT

    def __init__(self, message: str, reason: Reason | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class DecodeError(LedgerError):
    """Bytes that are not a canonical encoding of the expected shape."""

    reason = Reason.DECODE


class InvalidError(LedgerError):
    """A well-formed object that breaks a rule (bad height, bad hash, unknown validator...)."""

    reason = Reason.INVALID


class SignatureError(InvalidError):
    reason = Reason.SIGNATURE


class DoubleSignError(LedgerError):
    """The private validator refuses to sign something that conflicts with what it signed."""

    reason = Reason.DOUBLE_SIGN
