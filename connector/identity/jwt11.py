"""VC-JWT of VC Data Model 1.1 (§6.3.1), the proof format of DCP's `vc11-sl2021/jwt` profile.

The credential travels in the JWT's `vc` claim, a presentation in its `vp` claim, and some
properties move to registered claims: `iss` is the issuer (the holder of a presentation),
`sub` the subject's id, `nbf` the issuance date, `exp` the expiration date, `jti` the id.
Verifiers rebuild the document from both; when a property is given twice, the two must agree
on who is who (issuer, holder, subject), or the credential is refused: the claim is what the
signature is checked against, the property is what a feature would read.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from connector.identity.did import Signer
from connector.identity.verification import id_of, parse_datetime, utcnow

VC11_TYPES = ("JWT", "jwt", None)  # the typ a VC-JWT 1.1 carries, when it carries one


def is_vc11(header: dict[str, Any], payload: dict[str, Any]) -> bool | None:
    """True for a 1.1 presentation (`vp` claim), False for a 1.1 credential (`vc` claim),
    None when the JWT is neither (an ID token, an access token, a VC 2.0 JWT...)."""
    if header.get("typ") not in VC11_TYPES:
        return None
    vc, vp = isinstance(payload.get("vc"), dict), isinstance(payload.get("vp"), dict)
    if vc == vp:
        return None
    return vp


def _xsd(value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 253402300800:
        return None
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bind(document: dict[str, Any], field: str, claim: Any, what: str) -> list[str]:
    """Fill FIELD from a JWT claim; a problem when both are given and name different DIDs."""
    if claim is None:
        return []
    if not isinstance(claim, str):
        return [f"the JWT claim for the {what} is not a string"]
    present = document.get(field)
    if present is None:
        document[field] = claim
        return []
    if id_of(present) != claim:
        return [f"the JWT names {claim} as the {what}, but the document names {id_of(present)}"]
    return []


def document_of(payload: dict[str, Any], presentation: bool) -> tuple[dict[str, Any], list[str]]:
    """The credential (or presentation) a 1.1 JWT carries, with its claims folded in."""
    document = copy.deepcopy(payload["vp" if presentation else "vc"])
    problems = _bind(document, "holder" if presentation else "issuer", payload.get("iss"),
                     "holder" if presentation else "issuer")
    problems += _bind(document, "id", payload.get("jti"), "id")  # what storage and revocation use
    if presentation:
        return document, problems
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if "sub" in payload:
        if isinstance(subject, dict):
            problems += _bind(subject, "id", payload["sub"], "subject")
        elif subject is None:
            document["credentialSubject"] = {"id": payload["sub"]}
        elif isinstance(subject, list):
            problems.append("the JWT has a sub claim but the credential has several subjects")
        else:
            problems.append("the credential's subject is not an object")
    for claim, field in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if claim in payload and field not in document:
            moment = _xsd(payload[claim])
            if moment is None:
                problems.append(f"the JWT claim {claim} is not a NumericDate")
            else:
                document[field] = moment
    return document, problems


def _seconds(value: Any) -> int | None:
    moment = parse_datetime(value)
    return int(moment.timestamp()) if moment else None


def vc11_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The JWT payload for a VC 1.1 credential (the properties stay in `vc` too, as most
    wallets do, so that a verifier reading either finds them)."""
    subject = credential.get("credentialSubject")
    payload: dict[str, Any] = {"iss": id_of(credential.get("issuer")), "vc": credential}
    if isinstance(subject, dict) and isinstance(subject.get("id"), str):
        payload["sub"] = subject["id"]
    if isinstance(credential.get("id"), str):
        payload["jti"] = credential["id"]
    start, end = _seconds(credential.get("issuanceDate")), _seconds(credential.get("expirationDate"))
    if start is not None:
        payload["nbf"] = start
    if end is not None:
        payload["exp"] = end
    return payload


def issue_vc11_jwt(credential: dict[str, Any], signer: Signer) -> str:
    """A VC-JWT 1.1 of CREDENTIAL (VC Data Model 1.1 fields: issuanceDate, expirationDate)."""
    from connector.identity.jose import sign_jwt  # jose imports this module

    return sign_jwt({"typ": "JWT"}, vc11_claims(credential), signer)


def issue_vp11_jwt(
    credentials: list[str],
    signer: Signer,
    *,
    audience: str | None = None,
    nonce: str | None = None,
    jti: str | None = None,
    lifetime: int = 300,
    now: datetime | None = None,
) -> str:
    """A VC-JWT 1.1 presentation of 1.1 credential JWTs, held by the signer."""
    from connector.identity.jose import sign_jwt

    moment = int((now or utcnow()).timestamp())
    vp = {"@context": ["https://www.w3.org/2018/credentials/v1"],
          "type": ["VerifiablePresentation"], "holder": signer.did,
          "verifiableCredential": list(credentials)}
    payload: dict[str, Any] = {"iss": signer.did, "sub": signer.did, "vp": vp,
                               "iat": moment, "nbf": moment, "exp": moment + lifetime}
    for claim, value in (("aud", audience), ("nonce", nonce), ("jti", jti)):
        if value is not None:
            payload[claim] = value
    return sign_jwt({"typ": "JWT"}, payload, signer)
