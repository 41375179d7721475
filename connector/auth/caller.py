"""Who is calling: the seam between authentication (which sets it) and features (which read it).

The DCP middleware puts a `Caller` on the request after verifying the caller's self-issued ID
token and its presentation; no `Caller` means an anonymous request. Features decide with it
(the catalog shows an anonymous caller public datasets only) and never parse tokens themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MEMBERSHIP = "MembershipCredential"  # the credential type that makes a caller a member


@dataclass(frozen=True)
class Caller:
    did: str  # proven by the self-issued ID token (iss = sub)
    credentials: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)  # verified, from trusted issuers
    registry: str | None = None  # the ledger registry that lists the caller as a member in good standing

    def has_credential(self, credential_type: str) -> bool:
        if credential_type == MEMBERSHIP and self.registry is not None:
            return True
        return any(credential_type in credential_types(c) for c in self.credentials)

    def issuers(self, credential_type: str) -> frozenset[str]:
        """Who issued this caller's verified credentials of that type (membership by the
        ledger's registry counts as one, named by `registry`)."""
        found = {self.registry} if credential_type == MEMBERSHIP and self.registry else set()
        for credential in self.credentials:
            if credential_type in credential_types(credential):
                issuer = credential.get("issuer")
                issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
                if isinstance(issuer, str):
                    found.add(issuer)
        return frozenset(found)

    def claims(self, credential_type: str) -> list[Mapping[str, Any]]:
        """The credentialSubject of every verified credential of that type."""
        found = []
        for credential in self.credentials:
            if credential_type in credential_types(credential):
                subject = credential.get("credentialSubject", {})
                found.extend(subject if isinstance(subject, list) else [subject])
        return found


# request[CALLER]: the authenticated Caller, or None for an anonymous request
CALLER: web.RequestKey[Caller | None] = web.RequestKey("caller", object)  # type: ignore[arg-type]


def credential_types(credential: Mapping[str, Any]) -> list[str]:
    """The types a credential's JSON names (it is someone else's: anything else is dropped)."""
    kinds = credential.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
    return [kind for kind in kinds if isinstance(kind, str)]  # a credential's JSON is someone else's


def caller_of(request: web.Request) -> Caller | None:
    return request.get(CALLER)
