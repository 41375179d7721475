"""The holder side of DCP presentation: access tokens, and answering a verifier's query.

The access token (the `token` claim of our ID tokens) is a JWT this node signs for itself
(`typ: at+jwt`): iss = this node, aud = the verifier allowed to use it, `scope` = what it may
read, a few minutes of life. Why a JWT and not an opaque value kept in a table: nothing to
store, share or clean up, it survives restarts, and it costs one signature check. It cannot be
revoked, which its short life makes acceptable.

A verifier presents it inside its own self-issued ID token (iss = the verifier, aud = us), as
DCP asks: a stolen access token is useless without the verifier's key (proof of possession).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connector.auth import schemas
from connector.auth.profiles import VC11, profile_of
from connector.auth.profiles import requested as requested_profiles
from connector.auth.replay import ReplayGuard
from connector.auth.scopes import ID_ALIAS, Scope, parse_scopes
from connector.auth.tokens import (
    MAX_LIFETIME,
    PURPOSES,
    check_signature,
    check_times,
    decode,
    refuse,
    verify_id_token,
)
from connector.credentials.model import Format, Role, StoredCredential
from connector.credentials.store import CredentialStore
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer
from connector.identity.jose import issue_vp_jwt, sign_jwt
from connector.identity.jwt11 import issue_vp11_jwt
from connector.identity.proofs import VC_V2
from connector.identity.resolver import DidResolver
from connector.identity.verification import utcnow

DCP_CONTEXT = "https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"
ACCESS_TOKEN_TYPE = "at+jwt"
ACCESS_TOKEN_TTL = timedelta(minutes=5)
PRESENTATION_TTL = timedelta(minutes=5)
MAX_CREDENTIALS = 100


class Unsupported(Exception):
    """A valid request for something DCP lets us not implement (answered 501)."""


def issue_access_token(
    signer: Signer, verifier_did: str, scopes: Iterable[str],
    ttl: timedelta = ACCESS_TOKEN_TTL, now: datetime | None = None,
) -> str:
    """A grant for `verifier_did` to read our credentials within `scopes`."""
    moment = int((now or utcnow()).timestamp())
    payload = {"iss": signer.did, "sub": signer.did, "aud": verifier_did,
               "scope": " ".join(scopes), "jti": str(uuid.uuid4()),
               "iat": moment, "exp": moment + int(ttl.total_seconds())}
    return sign_jwt({"typ": ACCESS_TOKEN_TYPE}, payload, signer)


async def verify_access_token(
    token: str, resolver: DidResolver, holder_did: str, verifier_did: str, now: datetime,
) -> frozenset[Scope]:
    """The scopes granted, if this node issued `token` to `verifier_did` and it is still valid."""
    header, payload, signing_input, signature = decode(token)
    if header.get("typ") != ACCESS_TOKEN_TYPE:
        raise refuse("the access token is not an at+jwt")
    if payload.get("iss") != holder_did:
        raise refuse("the access token was not issued by this credential service")
    if payload.get("aud") != verifier_did:
        raise refuse("the access token was granted to another party")
    check_times(payload, now, MAX_LIFETIME)
    await check_signature(header, signing_input, signature, holder_did, resolver, PURPOSES)
    scope = payload.get("scope")
    try:
        return parse_scopes(scope.split()) if isinstance(scope, str) else frozenset()
    except ConnectorError:
        raise refuse("the access token grants an unknown scope") from None


@dataclass
class Holder:
    """What the credential service needs of the node."""

    signer: Signer
    resolver: DidResolver
    credentials: CredentialStore
    guard: ReplayGuard

    @property
    def did(self) -> str:
        return self.signer.did

    async def answer(self, authorization: str | None, body: Any, now: datetime | None = None) -> dict[str, Any]:
        """A PresentationResponseMessage for an authorized PresentationQueryMessage."""
        now = now or utcnow()
        if not authorization or not authorization.startswith("Bearer "):
            raise refuse("the credential service needs an Authorization: Bearer <ID token> header")
        id_token = await verify_id_token(authorization[len("Bearer "):].strip(), self.resolver,
                                         self.did, now)
        await self.guard.check(id_token.issuer, id_token.jti, id_token.expires_at, now)
        assert id_token.access_token is not None
        granted = await verify_access_token(id_token.access_token, self.resolver, self.did,
                                            id_token.issuer, now)
        problems = schemas.problems(schemas.QUERY, body)
        if problems:
            raise ConnectorError(Reason.BAD_INPUT, "not a PresentationQueryMessage: " + "; ".join(problems))
        if "presentationDefinition" in body:
            if "scope" in body:
                raise ConnectorError(Reason.BAD_INPUT, "a query has a scope or a presentationDefinition, not both")
            raise Unsupported("presentation definitions are not supported: query by scope")
        requested = parse_scopes(body["scope"])
        if not requested <= granted:
            raise ConnectorError(Reason.FORBIDDEN, "the query asks for more than the access token grants")
        profiles = requested_profiles(body)
        found = await self.select(requested, now)
        nonce = body.get("nonce") if isinstance(body.get("nonce"), str) else None
        groups = {p: [c for c in found if profile_of(c) == p] for p in profiles}
        # one presentation per profile that has credentials; an empty one when none has
        kept = [p for p in profiles if groups[p]] or [profiles[0]]
        presentations = [self._present(p, groups[p], id_token.issuer, nonce, now) for p in kept]
        return {"@context": [DCP_CONTEXT], "type": "PresentationResponseMessage",
                "presentation": presentations}

    def _present(self, profile: str, chosen: list[StoredCredential], audience: str,
                 nonce: str | None, now: datetime) -> str:
        """One presentation in PROFILE (DCP: a presentation is homogeneous)."""
        if profile == VC11:
            return issue_vp11_jwt([c.document for c in chosen], self.signer, audience=audience,
                                  nonce=nonce, jti=str(uuid.uuid4()), now=now,
                                  lifetime=int(PRESENTATION_TTL.total_seconds()))
        presentation: dict[str, Any] = {
            "@context": [VC_V2], "type": ["VerifiablePresentation"],
            "verifiableCredential": [_item(c) for c in chosen],
            "jti": str(uuid.uuid4()), "iat": int(now.timestamp()),
            "exp": int((now + PRESENTATION_TTL).timestamp()),
        }
        return issue_vp_jwt(presentation, self.signer, audience=audience, nonce=nonce)

    async def select(self, scopes: Iterable[Scope], now: datetime) -> list[StoredCredential]:
        """The unexpired credentials this node holds about itself, matching any scope."""
        chosen: dict[str, StoredCredential] = {}
        for scope in sorted(scopes, key=str):
            if scope.alias == ID_ALIAS:
                one = await self.credentials.get(scope.value, Role.HELD)
                candidates = [one] if one else []
            else:
                candidates = await self.credentials.list(role=Role.HELD, type_=scope.value,
                                                         limit=MAX_CREDENTIALS)
            for credential in candidates:
                if credential.subject == self.did and not credential.expired(now):
                    chosen.setdefault(credential.id, credential)
        return list(chosen.values())[:MAX_CREDENTIALS]


def _item(credential: StoredCredential) -> dict[str, Any] | str:
    # JWT credentials travel enveloped (issue_vp_jwt wraps strings), LD ones as they are
    return credential.document if credential.format is Format.JWT else json.loads(credential.document)
