"""Refusing a replayed token: each (issuer, jti) is accepted once while the token is valid."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from connector.auth.store import JtiStore
from connector.auth.tokens import refuse
from connector.identity.verification import CLOCK_SKEW, utcnow

PRUNE_EVERY = timedelta(minutes=1)


def jti_key(issuer: str, jti: str) -> str:
    # per issuer: one participant cannot burn another's jti; hashed: a fixed-size key
    return hashlib.sha256(f"{issuer}\x00{jti}".encode()).hexdigest()


class ReplayGuard:
    def __init__(self, store: JtiStore, prune_every: timedelta = PRUNE_EVERY) -> None:
        self.store = store
        self.prune_every = prune_every
        self._next_prune: datetime | None = None

    async def check(self, issuer: str, jti: str, expires_at: datetime, now: datetime | None = None) -> None:
        """Record the jti, or refuse (UNAUTHORIZED) if it was used before."""
        now = now or utcnow()
        if self._next_prune is None or now >= self._next_prune:
            # inline and rate-limited: no background task, and the table stays small
            self._next_prune = now + self.prune_every
            await self.store.prune(now)
        # kept past exp by the skew, in case a verifier with a slow clock would still accept it
        if not await self.store.record(jti_key(issuer, jti), expires_at + CLOCK_SKEW, now):
            raise refuse("the token was used before (replayed jti)")
