"""Conformance testing only: callers known by a static bearer token instead of DCP.

The Dataspace Protocol's official test kit (TCK) sends one fixed `Authorization` header and
speaks no DCP, so it could never authenticate to a node. `[auth] static_callers` in
communs.toml names such test participants, each with a token file (0600, in the node's folder
unless absolute), e.g.

    [auth]
    static_callers = [{ id = "TCK_PARTICIPANT", token_file = "tck.token" }]

A request whose Authorization header is exactly one of those tokens is that participant, with
no credentials (it sees what any authenticated non-member sees). Off by default: `communs init`
never writes it, and a node that has it says so in its log at start. Never enable it on a node
that others can reach: anyone holding the token is that participant.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path

from connector.auth.caller import Caller
from connector.config import StaticCaller
from connector.errors import ConnectorError, Reason

log = logging.getLogger("communs.auth")
MIN_TOKEN = 32  # characters: a guessable token would make the participant anyone's


class StaticCallers:
    """Token -> Caller for the configured test participants (empty: the feature is off)."""

    def __init__(self, tokens: dict[str, str]) -> None:
        # kept as digests: compared in constant time, never held as the secret itself
        self._digests = {_digest(token): participant for token, participant in tokens.items()}

    def __bool__(self) -> bool:
        return bool(self._digests)

    @classmethod
    def load(cls, home: Path, configured: tuple[StaticCaller, ...]) -> StaticCallers:
        tokens: dict[str, str] = {}
        for caller in configured:
            path = Path(caller.token_file)
            path = path if path.is_absolute() else home / path
            token = _read(path)
            if token in tokens:
                raise ConnectorError(Reason.BAD_CONFIG, f"[auth] static_callers: {caller.id} and "
                                     f"{tokens[token]} have the same token; give each its own")
            tokens[token] = caller.id
        if tokens:
            log.warning("conformance mode: %d static caller(s) accepted without DCP (%s); "
                        "never expose this node", len(tokens), ", ".join(sorted(tokens.values())))
        return cls(tokens)

    def caller(self, token: str) -> Caller | None:
        """The participant whose token this is, or None."""
        digest = _digest(token)
        found = None
        for known, participant in self._digests.items():
            if hmac.compare_digest(known, digest):
                found = participant
        return Caller(found) if found is not None else None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _read(path: Path) -> str:
    try:
        if path.stat().st_mode & 0o077:
            raise ConnectorError(Reason.BAD_CONFIG, f"{path} is readable by others; run chmod 600 on it")
        token = path.read_text().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        raise ConnectorError(Reason.BAD_CONFIG, f"no readable static caller token at {path}") from None
    if len(token) < MIN_TOKEN:
        raise ConnectorError(Reason.BAD_CONFIG, f"the static caller token in {path} is shorter than {MIN_TOKEN} characters")
    return token
