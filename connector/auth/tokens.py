"""DCP 1.0 self-issued ID tokens: a JWT a participant signs with its DID key to say who it is.

iss = sub = the caller's DID, aud = the verifier's DID, a fresh jti, iat and a short exp, and
a `token` claim: the access token the verifier hands back to the caller's credential service.
Verification refuses anything unexpected before touching a key (alg allow-list, typ, size),
and every failure is one UNAUTHORIZED sentence that never quotes the token itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connector import strictjson
from connector.errors import ConnectorError, Reason
from connector.identity.base64url import decode as b64u_decode
from connector.identity.did import Signer
from connector.identity.jose import VC_ALGS, sign_jwt
from connector.identity.keys import key_algs, verify_signature
from connector.identity.resolver import DidResolver
from connector.identity.verification import CLOCK_SKEW, did_of, utcnow

ID_TOKEN_TTL = timedelta(minutes=5)
MAX_LIFETIME = timedelta(minutes=10)  # bounds how long a jti must be remembered
MAX_TOKEN = 16 * 1024
MAX_CLAIM = 256
_YEAR_9999 = 253402300800  # beyond it, datetime cannot hold the instant
# a vc+jwt, vp+jwt or an access token (at+jwt) must never pass as an ID token
ID_TOKEN_TYPES = ("JWT", None)
# DCP 1.0 names capabilityInvocation, earlier drafts and EDC's DID documents authentication
PURPOSES = ("authentication", "capabilityInvocation")


def refuse(message: str) -> ConnectorError:
    return ConnectorError(Reason.UNAUTHORIZED, message)


@dataclass(frozen=True)
class IdToken:
    issuer: str  # the caller's DID (iss = sub)
    audience: str
    jti: str
    issued_at: datetime
    expires_at: datetime
    access_token: str | None
    claims: dict[str, Any]


def decode(token: str, limit: int = MAX_TOKEN) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, payload, signing input, signature) of a compact JWS; nothing is verified."""
    if not isinstance(token, str) or len(token) > limit:
        raise refuse("the token is not a string of reasonable size")
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("three parts")
        # strictly: a payload nested 100,000 deep or holding lone surrogates is refused here
        header, payload = strictjson.loads(b64u_decode(parts[0])), strictjson.loads(b64u_decode(parts[1]))
        signature = b64u_decode(parts[2]) if parts[2] else b""
    except ValueError:
        raise refuse("the token is not a well-formed JWT") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise refuse("the token is not a well-formed JWT")
    return header, payload, f"{parts[0]}.{parts[1]}".encode(), signature


def _instant(payload: dict[str, Any], claim: str, required: bool) -> datetime | None:
    value = payload.get(claim)
    if value is None:
        if required:
            raise refuse(f"the token has no {claim} claim")
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < _YEAR_9999:
        raise refuse(f"the token claim {claim} is not a NumericDate")
    return datetime.fromtimestamp(value, UTC)


def check_times(payload: dict[str, Any], now: datetime, max_lifetime: timedelta) -> tuple[datetime, datetime]:
    """(iat, exp) after refusing an expired, not-yet-valid or too long-lived token."""
    issued, expires = _instant(payload, "iat", True), _instant(payload, "exp", True)
    assert issued is not None and expires is not None
    not_before = _instant(payload, "nbf", False)
    if expires <= now:
        raise refuse("the token has expired")
    if issued > now + CLOCK_SKEW or (not_before and not_before > now + CLOCK_SKEW):
        raise refuse("the token is not valid yet (iat or nbf in the future)")
    if expires - issued > max_lifetime:
        raise refuse(f"the token lives longer than {int(max_lifetime.total_seconds())} s")
    return issued, expires


async def check_signature(
    header: dict[str, Any], signing_input: bytes, signature: bytes, signer_did: str,
    resolver: DidResolver, purposes: tuple[str, ...],
) -> None:
    """The JWS was made with a key that `signer_did` lists under one of `purposes`."""
    alg = header.get("alg")
    if alg not in VC_ALGS:  # a participant may hold an RSA or P-384 key, as DCP allows
        raise refuse(f"the token algorithm {str(alg)[:20]!r} is not accepted "
                     "(EdDSA, ES256, ES384, RS256/384/512 or PS256/384/512)")
    if header.get("crit"):
        raise refuse("the token has critical headers that are not understood")
    kid = header.get("kid")
    if isinstance(kid, str) and kid.startswith("#"):
        kid = signer_did + kid
    if not isinstance(kid, str) or "#" not in kid or did_of(kid) != signer_did:
        raise refuse("the token's kid does not name a verification method of its issuer")
    key = None
    for purpose in purposes:
        try:
            key = await resolver.verification_key(kid, purpose)
            break
        except ConnectorError as exc:
            if exc.reason is Reason.DID_RESOLUTION and "has no verification method" not in str(exc):
                raise refuse(f"the issuer's DID cannot be resolved: {exc}") from None
    if key is None:
        raise refuse(f"the token's key is not an {' or '.join(purposes)} method of its issuer")
    if alg not in key_algs(key) or not verify_signature(key, alg, signing_input, signature):
        raise refuse("the token signature does not match (altered, or signed with another key)")


def _text(payload: dict[str, Any], claim: str, limit: int = MAX_CLAIM) -> str:
    value = payload.get(claim)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise refuse(f"the token claim {claim} is missing or not a short string")
    return value


def issue_id_token(
    signer: Signer,
    audience_did: str,
    *,
    access_token: str | None,
    ttl: timedelta = ID_TOKEN_TTL,
    now: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A self-issued ID token for one request to `audience_did` (a fresh jti each time)."""
    moment = int((now or utcnow()).timestamp())
    payload: dict[str, Any] = {
        "iss": signer.did, "sub": signer.did, "aud": audience_did,
        "jti": str(uuid.uuid4()), "iat": moment, "exp": moment + int(ttl.total_seconds()),
    }
    if access_token is not None:
        payload["token"] = access_token
    payload.update(extra or {})
    return sign_jwt({"typ": "JWT"}, payload, signer)


async def verify_id_token(
    token: str,
    resolver: DidResolver,
    expected_audience: str,
    now: datetime | None = None,
    *,
    require_access_token: bool = True,
) -> IdToken:
    """The claims of a valid self-issued ID token for `expected_audience` (replay is the
    caller's business: see replay.py), else ConnectorError(UNAUTHORIZED)."""
    now = now or utcnow()
    header, payload, signing_input, signature = decode(token)
    if header.get("typ") not in ID_TOKEN_TYPES:
        raise refuse(f"the token type {str(header.get('typ'))[:20]!r} is not a self-issued ID token")
    if "vc" in payload or "vp" in payload:  # a VC-JWT 1.1 is typ JWT too, and never an ID token
        raise refuse("the token is a verifiable credential or presentation, not an ID token")
    issuer, subject = _text(payload, "iss"), _text(payload, "sub")
    if issuer != subject:
        raise refuse("the token's iss and sub differ: it is not self-issued")
    if not issuer.startswith("did:") or did_of(issuer) != issuer:
        raise refuse("the token's issuer is not a DID")
    aud = payload.get("aud")
    if aud != expected_audience and not (isinstance(aud, list) and aud == [expected_audience]):
        raise refuse("the token is meant for another audience")
    jti = _text(payload, "jti")
    issued, expires = check_times(payload, now, MAX_LIFETIME)
    access = payload.get("token")
    if access is not None and (not isinstance(access, str) or len(access) > MAX_TOKEN // 2):
        raise refuse("the token claim token is not a string of reasonable size")
    if require_access_token and not access:
        raise refuse("the ID token carries no access token for the credential service")
    await check_signature(header, signing_input, signature, issuer, resolver, PURPOSES)
    return IdToken(issuer, expected_audience, jti, issued, expires, access, payload)
