"""Credential use cases shared by the CLI (`communs credential issue|verify`) and the API.

`verify_credential_file` takes whatever a user hands over (a JSON-LD credential or presentation
with a proof, a bare JWT, a JWT wrapped in JSON or in an envelope) and always answers with a
Verification: a malformed or unknown input is a problem to report, never a traceback.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from connector import strictjson
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer
from connector.identity.jose import issue_vc_jwt, unenvelope, verify_jwt
from connector.identity.jwt11 import issue_vc11_jwt
from connector.identity.keys import KeyStore
from connector.identity.proofs import VC_V1, VC_V2, issue_ldp, verify_ldp, verify_presentation
from connector.identity.resolver import DidResolver
from connector.identity.verification import Verification, is_presentation, utcnow, xsd_now
from vocab.errors import VocabError

# what VC 2.0 itself uses as @vocab: undefined claim names expand there instead of vanishing
ISSUER_DEPENDENT = {"@vocab": "https://www.w3.org/ns/credentials/issuer-dependent#"}
MAX_FILE = 1024 * 1024
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
FORMATS = ("jwt", "jwt11", "ldp")
_WRAPPER_KEYS = ("jwt", "token", "vc", "vp", "credential", "presentation",
                 "verifiableCredential", "verifiablePresentation")


def issue_credential(
    store_or_signer: KeyStore | Signer,
    subject_did: str,
    types: Sequence[str] | str,
    claims: dict[str, Any],
    fmt: Literal["jwt", "jwt11", "ldp"] = "ldp",
    *,
    issuer_did: str | None = None,
    suite: str = "Ed25519Signature2020",
    contexts: Sequence[str | dict[str, Any]] = (),
    valid_for: timedelta | None = None,
    now: datetime | None = None,
    status: dict[str, Any] | None = None,
) -> dict[str, Any] | str:
    """A credential about `subject_did`: VC 1.1 with an LD proof (ldp) or as a VC-JWT 1.1
    (jwt11, DCP's vc11-sl2021/jwt profile), or VC 2.0 as a vc+jwt (jwt, vc20-bssl/jwt).

    A KeyStore needs `issuer_did` (the node's did:web) and signs with `#key-ed25519`. Without
    `contexts`, claims are named in the issuer-dependent vocabulary so that every claim is
    covered by the proof.
    """
    if isinstance(store_or_signer, KeyStore):
        if not issuer_did:
            raise ConnectorError(Reason.BAD_INPUT, "issuing with a key store needs the issuer DID")
        signer = Signer.for_store(store_or_signer, issuer_did)
    else:
        signer = store_or_signer
    if not isinstance(claims, dict):
        raise ConnectorError(Reason.BAD_INPUT, "the claims must be a JSON object")
    if "id" in claims:
        raise ConnectorError(Reason.BAD_INPUT, "the claims must not set the subject id")
    if not subject_did or not subject_did.startswith("did:"):
        raise ConnectorError(Reason.BAD_INPUT, f"the subject {subject_did!r} is not a DID")
    if fmt not in FORMATS:
        raise ConnectorError(Reason.BAD_INPUT, f"unknown credential format {fmt!r} ({', '.join(FORMATS)})")
    kinds = [types] if isinstance(types, str) else list(types)
    kinds = ["VerifiableCredential"] + [t for t in kinds if t != "VerifiableCredential"]
    now = now or utcnow()
    base = VC_V2 if fmt == "jwt" else VC_V1
    extra = list(contexts) or ([] if fmt == "jwt" else [ISSUER_DEPENDENT])
    credential: dict[str, Any] = {
        "@context": [base, *extra],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": kinds,
        "issuer": signer.did,
        "credentialSubject": {"id": subject_did, **claims},
    }
    start, end = ("validFrom", "validUntil") if fmt == "jwt" else ("issuanceDate", "expirationDate")
    credential[start] = xsd_now(now)
    if valid_for is not None:
        credential[end] = xsd_now(now + valid_for)
    if status is not None:  # a status list entry (see connector/credentials/status.py)
        credential["credentialStatus"] = status
    if fmt == "jwt":
        return issue_vc_jwt(credential, signer)
    if fmt == "jwt11":
        return issue_vc11_jwt(credential, signer)
    return issue_ldp(credential, signer, suite=suite, created=now)


def _find_jwt(data: Any) -> str | None:
    if isinstance(data, str):
        return data.strip() if _JWT.match(data.strip()) else None
    if isinstance(data, dict):
        wrapped = unenvelope(data)
        if wrapped:
            return wrapped
        for key in _WRAPPER_KEYS:
            if isinstance(data.get(key), str) and _JWT.match(data[key].strip()):
                return data[key].strip()
    return None


async def verify_credential_file(
    text: str | bytes,
    resolver: DidResolver | None,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    audience: str | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
) -> Verification:
    """Detects the format of a credential/presentation file and verifies it.

    Without a resolver, a default one is used: did:key offline, did:web fetched over HTTP(S)
    with the usual guards (private addresses refused)."""
    resolver = resolver or DidResolver(None)
    try:
        return await _verify_text(text, resolver, challenge=challenge, domain=domain,
                                  audience=audience, nonce=nonce, now=now)
    except (ConnectorError, VocabError) as exc:
        return Verification.failed(str(exc))
    except Exception as exc:  # noqa: BLE001 - the contract is "a clear problem, never a traceback"
        return Verification.failed(f"the file could not be verified: {exc.__class__.__name__}: {exc}")


async def _verify_text(text: str | bytes, resolver: DidResolver, **options: Any) -> Verification:
    if len(text) > MAX_FILE:
        return Verification.failed(f"the file is larger than {MAX_FILE} bytes")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return Verification.failed("the file is not UTF-8 text")
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        return Verification.failed("the file is empty")
    jwt = _find_jwt(stripped)
    data: Any = None
    if jwt is None:
        try:
            data = strictjson.loads(stripped)
        except ValueError as exc:
            return Verification.failed(f"the file is neither a JWT nor valid JSON ({exc})")
        jwt = _find_jwt(data)
    if jwt is not None:
        return await verify_jwt(jwt, resolver, audience=options["audience"],
                                nonce=options["nonce"], now=options["now"])
    if isinstance(data, dict) and "proof" in data:
        if is_presentation(data):
            return await verify_presentation(data, resolver, challenge=options["challenge"],
                                             domain=options["domain"], now=options["now"])
        return await verify_ldp(data, resolver, now=options["now"])
    if isinstance(data, dict) and ("credentialSubject" in data or is_presentation(data)):
        return Verification.failed("the credential has no proof: it is not secured", data)
    return Verification.failed(
        "unknown format: expected a JSON-LD credential or presentation with a proof, "
        "or a vc+jwt / vp+jwt"
    )
