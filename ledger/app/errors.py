"""The application's closed set of result codes (numbered as the Cosmos SDK's `sdk` codespace,
so that people who know those find the same numbers) and the one error that carries them.

A code is part of the deterministic tx result (it goes into LastResultsHash); the log text is
not, but it is what a user reads, so it is one clear sentence."""

from __future__ import annotations

from ..errors import LedgerError, Reason

CODESPACE = "communs"

OK = 0
INTERNAL = 1  # a message that failed in a way its module did not foresee (the SDK's ErrInternal)
TX_DECODE = 2  # the bytes are not a transaction, or a message is malformed
UNAUTHORIZED = 4  # bad signature; a send to a module account; a message signed by another
INSUFFICIENT_FUNDS = 5
UNKNOWN_REQUEST = 6  # unknown message type or query path
INVALID_ADDRESS = 7
INSUFFICIENT_FEE = 13
INVALID_REQUEST = 18  # a well-formed request that breaks a rule (bad amounts, bad genesis...)
TX_TOO_LARGE = 21
WRONG_CHAIN_ID = 28
WRONG_SEQUENCE = 32
NOT_FOUND = 38

CODES = {OK: "ok", INTERNAL: "internal", TX_DECODE: "tx parse error", UNAUTHORIZED: "unauthorized",
         INSUFFICIENT_FUNDS: "insufficient funds", UNKNOWN_REQUEST: "unknown request",
         INVALID_ADDRESS: "invalid address", INSUFFICIENT_FEE: "insufficient fee",
         INVALID_REQUEST: "invalid request", TX_TOO_LARGE: "tx too large",
         WRONG_CHAIN_ID: "wrong chain id", WRONG_SEQUENCE: "wrong sequence",
         NOT_FOUND: "not found"}


class AppError(LedgerError):
    """A refusal by the application, with its stable code."""

    reason = Reason.INVALID

    def __init__(self, code: int, message: str) -> None:
        assert code in CODES and code != OK
        super().__init__(message, Reason.DECODE if code == TX_DECODE else None)
        self.code = code
