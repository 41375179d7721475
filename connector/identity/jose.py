"""VC Data Model 2.0 secured with JOSE (VC-JOSE-COSE): `vc+jwt` credentials, `vp+jwt` presentations.

Verification also reads VC-JWT 1.1 (`jwt11.py`), DCP's other profile.

The JWT payload is the credential itself; `kid` names the verification method. communs signs
with EdDSA or ES256; credentials and presentations of other wallets may also use ES384 and RSA
(RS*, PS*, 2048 bits at least). An allow-list: `none`, HMAC and anything unexpected are refused
before any key is looked at. Credentials inside a presentation travel as
`EnvelopedVerifiableCredential` with a `data:application/vc+jwt,<jwt>` id.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from connector import strictjson
from connector.errors import ConnectorError
from connector.identity.base64url import decode as b64u_decode
from connector.identity.base64url import encode as b64u_encode
from connector.identity.did import Signer
from connector.identity.jwt11 import document_of, is_vc11
from connector.identity.keys import RSA_ALGS, key_algs, verify_signature
from connector.identity.resolver import DidResolver
from connector.identity.verification import (
    CLOCK_SKEW,
    Verification,
    did_of,
    id_of,
    utcnow,
    validity_problems,
)

ALGS = ("EdDSA", "ES256")  # what tokens between communs nodes use (ID tokens, receipts...)
# what credentials and presentations from other wallets may use (DCP: "RSA, EC and EdDSA")
VC_ALGS = (*ALGS, "ES384", *RSA_ALGS)
VC_TYPES = ("vc+jwt", "vc+ld+json+jwt")  # the second: earlier drafts, still seen in the wild
VP_TYPES = ("vp+jwt", "vp+ld+json+jwt")
ENVELOPE_PREFIX = "data:application/vc+jwt,"
MAX_JWT = 512 * 1024


def _json(part: dict[str, Any]) -> str:
    return b64u_encode(json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode())


def sign_jwt(header: dict[str, Any], payload: dict[str, Any], signer: Signer) -> str:
    header = {"alg": signer.key.alg, "kid": signer.verification_method, **header}
    signing_input = f"{_json(header)}.{_json(payload)}"
    return f"{signing_input}.{b64u_encode(signer.key.sign(signing_input.encode()))}"


def envelope(jwt: str) -> dict[str, Any]:
    return {"@context": "https://www.w3.org/ns/credentials/v2",
            "id": ENVELOPE_PREFIX + jwt, "type": "EnvelopedVerifiableCredential"}


def unenvelope(value: Any) -> str | None:
    """The JWT inside an EnvelopedVerifiableCredential (or a bare JWT string), else None."""
    if isinstance(value, str):
        return value if value.count(".") == 2 else None
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        if value["id"].startswith(ENVELOPE_PREFIX):
            return value["id"][len(ENVELOPE_PREFIX) :]
    return None


def issue_vc_jwt(credential: dict[str, Any], signer: Signer) -> str:
    return sign_jwt({"typ": "vc+jwt", "cty": "vc"}, credential, signer)


def issue_vp_jwt(
    presentation: dict[str, Any],
    signer: Signer,
    *,
    nonce: str | None = None,
    audience: str | None = None,
) -> str:
    """A vp+jwt; JWT credentials inside are enveloped, the holder defaults to the signer."""
    payload = dict(presentation)
    payload.setdefault("holder", signer.did)
    items = payload.get("verifiableCredential", [])
    items = items if isinstance(items, list) else [items]
    payload["verifiableCredential"] = [envelope(i) if isinstance(i, str) else i for i in items]
    if nonce is not None:
        payload["nonce"] = nonce
    if audience is not None:
        payload["aud"] = audience
    return sign_jwt({"typ": "vp+jwt", "cty": "vp"}, payload, signer)


def decode_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str, bytes]:
    """A compact JWS as (header, payload, signing input, signature): parsed, NOT verified."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ValueError("a JWT has three dot-separated parts")
    header, payload = strictjson.loads(b64u_decode(parts[0])), strictjson.loads(b64u_decode(parts[1]))
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("the JWT header and payload must be JSON objects")
    signature = b64u_decode(parts[2]) if parts[2] else b""  # empty: judged by the alg check
    return header, payload, f"{parts[0]}.{parts[1]}", signature


def _time_problems(payload: dict[str, Any], document: dict[str, Any], now: datetime) -> list[str]:
    problems = validity_problems(document, now)
    for claim in ("exp", "nbf", "iat"):
        value = payload.get(claim)
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"the JWT claim {claim} is not a number")
            continue
        moment = datetime.fromtimestamp(value, UTC)
        if claim == "exp" and moment <= now:
            problems.append(f"the JWT expired at {moment.isoformat()}")
        if claim in ("nbf", "iat") and moment > now + CLOCK_SKEW:
            problems.append(f"the JWT is not valid before {moment.isoformat()}")
    return problems


def read_jwt(header: dict[str, Any], payload: dict[str, Any]) -> tuple[bool, bool, dict[str, Any], list[str]] | str:
    """(presentation?, VC-JWT 1.1?, the document, problems) of a credential or presentation
    JWT, or why it is neither: a VC 2.0 JWT is the document itself, a 1.1 one carries it in
    its `vc` / `vp` claim."""
    typ = header.get("typ")
    if typ in VC_TYPES + VP_TYPES:
        return typ in VP_TYPES, False, payload, []
    kind = is_vc11(header, payload)
    if kind is None:
        return (f"the JWT type {typ!r} is neither vc+jwt nor vp+jwt, nor a VC-JWT 1.1 "
                "(typ JWT with a vc or vp claim)")
    document, problems = document_of(payload, kind)
    return kind, True, document, problems


async def verify_jwt(
    token: str,
    resolver: DidResolver,
    *,
    audience: str | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
) -> Verification:
    """Checks alg, typ, the signature with the key `kid` names, issuer binding and dates.

    Both DCP profiles: VC 2.0 (`vc+jwt`, `vp+jwt`) and VC-JWT 1.1 (`vc` / `vp` claims); the
    Verification's document is the credential or presentation either way."""
    now = now or utcnow()
    if not isinstance(token, str) or len(token) > MAX_JWT:
        return Verification.failed("the JWT is not a string of reasonable size")
    try:
        header, payload, signing_input, signature = decode_parts(token)
    except (ValueError, UnicodeDecodeError):
        return Verification.failed("the token is not a well-formed JWT (base64url JSON parts)")
    alg = header.get("alg")
    if alg not in VC_ALGS:
        return Verification.failed(f"the JWT algorithm {alg!r} is not accepted "
                                   "(EdDSA, ES256, ES384, RS256/384/512 or PS256/384/512)")
    if header.get("crit"):
        return Verification.failed(f"the JWT has critical headers {header['crit']!r} not understood")
    read = read_jwt(header, payload)
    if isinstance(read, str):
        return Verification.failed(read, payload)
    presentation, vc11, document, problems = read
    role = "holder" if presentation else "issuer"
    claimed = id_of(document.get(role))
    kid = header.get("kid")
    if isinstance(kid, str) and kid.startswith("#") and claimed:
        kid = claimed + kid
    if not isinstance(kid, str) or "#" not in kid or not kid.startswith("did:"):
        return Verification.failed("the JWT header has no kid naming a DID verification method",
                                   document)
    signer = did_of(kid)
    if not presentation and claimed is None:
        problems.append("the credential has no issuer")
    for name, value in ((role, claimed), ("iss", payload.get("iss"))):
        if value is not None and value != signer:
            problems.append(f"the JWT is signed with a key of {signer}, but its {name} is {value}")
    purpose = "authentication" if presentation else "assertionMethod"
    try:
        key = await resolver.verification_key(kid, purpose)
    except ConnectorError as exc:
        return Verification.of(problems + [str(exc)], document, signer)
    if alg not in key_algs(key):
        problems.append(f"the JWT algorithm {alg} does not fit the key {kid}")
    elif not verify_signature(key, alg, signing_input.encode(), signature):
        problems.append("the JWT signature does not match its content (altered or another key)")
    problems += _time_problems(payload, document, now)
    if audience is not None:
        aud = payload.get("aud")
        if audience != aud and not (isinstance(aud, list) and audience in aud):
            problems.append(f"the JWT audience is {aud!r}, not {audience!r}")
    if nonce is not None and payload.get("nonce") != nonce:
        problems.append("the JWT nonce is not the expected one")
    if presentation:
        problems += await embedded_problems(document.get("verifiableCredential"), resolver, now,
                                            vc11=vc11)
    return Verification.of(problems, document, signer)


async def embedded_problems(items: Any, resolver: DidResolver, now: datetime,
                            *, vc11: bool | None = None) -> list[str]:
    """Verifies each credential of a presentation; problems are prefixed with its position.

    VC11: the presentation is a VC-JWT 1.1 (True) or a VC 2.0 JWT (False), whose JWT
    credentials must be of the same profile (DCP: presentations are homogeneous); None (an
    LD-proof presentation): either."""
    from connector.identity.ldp import verify_ldp  # ldp does not need jose: no cycle at import

    if items is None:
        return []
    items = items if isinstance(items, list) else [items]
    problems: list[str] = []
    for number, item in enumerate(items, 1):
        jwt = unenvelope(item)
        if jwt is not None:
            kind = _credential_kind(jwt)
            if kind is None:
                problems.append(f"credential {number}: the enveloped token is not a vc+jwt")
                continue
            if vc11 is not None and kind != vc11:
                problems.append(f"credential {number}: a VC-JWT {'1.1' if kind else '2.0'} credential "
                                f"in a VC {'1.1' if vc11 else '2.0'} presentation (DCP profiles "
                                "do not mix)")
                continue
            result = await verify_jwt(jwt, resolver, now=now)
        elif isinstance(item, dict) and "proof" in item:
            result = await verify_ldp(item, resolver, purpose="assertionMethod", now=now)
        else:
            problems.append(f"credential {number}: neither a secured credential nor an envelope")
            continue
        problems += [f"credential {number}: {p}" for p in result.problems]
    return problems


def _credential_kind(jwt: str) -> bool | None:
    """False for a vc+jwt, True for a VC-JWT 1.1 credential, None for anything else."""
    try:
        header, payload, _, _ = decode_parts(jwt)
    except (ValueError, UnicodeDecodeError):
        return None
    if header.get("typ") in VC_TYPES:
        return False
    return True if is_vc11(header, payload) is False else None
