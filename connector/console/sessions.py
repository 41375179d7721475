"""Console sessions: a random id in an HttpOnly, SameSite=Strict cookie, the rest on the server.

The management token is checked once at sign-in and never stored in the session or a cookie.
Each session has its own CSRF token, which every state-changing request must echo (a form
field or the X-CSRF-Token header); both are compared in constant time. Sessions live in
memory: a restart signs everyone out, which is the safe side."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "communs_console"
IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 1000  # the oldest go first beyond this


@dataclass
class Session:
    id: str
    csrf: str
    seen: float  # monotonic time of the last request


@dataclass
class Sessions:
    token: str  # the management token
    idle: float = IDLE_SECONDS
    clock: Callable[[], float] = time.monotonic
    _by_id: dict[str, Session] = field(default_factory=dict)

    def token_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self.token.encode())

    def open(self) -> Session:
        self._drop_expired()
        while len(self._by_id) >= MAX_SESSIONS:
            oldest = min(self._by_id.values(), key=lambda s: s.seen)
            del self._by_id[oldest.id]
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock())
        self._by_id[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with that id, its idle clock restarted; None if unknown or expired."""
        if not session_id:
            return None
        session = self._by_id.get(session_id)
        if session is None:
            return None
        now = self.clock()
        if now - session.seen > self.idle:
            del self._by_id[session.id]
            return None
        session.seen = now
        return session

    def close(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)

    def expire_all(self) -> None:
        """Every session ends (what an operator does after the token leaked)."""
        self._by_id.clear()

    def _drop_expired(self) -> None:
        now = self.clock()
        for session in [s for s in self._by_id.values() if now - s.seen > self.idle]:
            del self._by_id[session.id]


def csrf_matches(session: Session, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8", "surrogateescape"), session.csrf.encode())
