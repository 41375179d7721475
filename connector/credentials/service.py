"""Credential use cases shared by the management API and the CLI: issue, revoke, verify, hold, list."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.credentials.model import Format, Role, StoredCredential
from connector.credentials.status import StatusRegistry, index_of
from connector.credentials.store import CredentialStore
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer
from connector.identity.jose import decode_parts, read_jwt
from connector.identity.keys import KeyStore
from connector.identity.resolver import DidResolver
from connector.identity.service import issue_credential, verify_credential_file
from connector.identity.statuslists import StatusLists
from connector.identity.suites import NAMES, SUITES
from connector.identity.verification import Verification, is_presentation, parse_datetime

DEFAULT_VALIDITY = timedelta(days=365)


def _parse_time(value: Any) -> datetime | None:
    """A VC date-time string, or a JWT NumericDate (iat/exp)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return parse_datetime(value)


def describe(credential: Mapping[str, Any], document: str, fmt: Format, role: Role) -> StoredCredential:
    """A store record for a credential (VC 1.1 or 2.0 field names) that was already verified."""
    issuer = credential.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    types = credential.get("type", [])
    types = [types] if isinstance(types, str) else types
    issued = _parse_time(credential.get("validFrom") or credential.get("issuanceDate") or credential.get("iat"))
    expires = _parse_time(credential.get("validUntil") or credential.get("expirationDate") or credential.get("exp"))
    if not isinstance(issuer, str) or not isinstance(types, list):
        raise ConnectorError(Reason.INVALID_CREDENTIAL, "the credential has no issuer or no type")
    return StoredCredential(
        id=str(credential.get("id") or credential.get("jti") or f"urn:uuid:{uuid.uuid4()}"),
        role=role,
        format=fmt,
        issuer=issuer,
        subject=subject.get("id") if isinstance(subject, Mapping) else None,
        types=tuple(str(t) for t in types),
        issued_at=issued or datetime.now(UTC),
        expires_at=expires,
        document=document,
    )


def _document_text(issued: dict | str) -> tuple[str, Format]:
    if isinstance(issued, str):
        return issued, Format.JWT
    return json.dumps(issued, separators=(",", ":")), Format.LDP


async def issue(
    store: CredentialStore,
    signer: Signer,
    resolver: DidResolver,
    subject: str,
    credential_type: str,
    claims: Mapping[str, Any] | None = None,
    fmt: str = "jwt",
    validity: timedelta = DEFAULT_VALIDITY,
    status: StatusRegistry | None = None,
    suite: str | None = None,
) -> tuple[StoredCredential, dict | str]:
    """Issue a credential to SUBJECT, keep a record of it, and return both. With STATUS, the
    credential gets the next entry of the node's revocation list (so it can be revoked)."""
    if not credential_type or not credential_type.isidentifier():
        raise ConnectorError(Reason.BAD_INPUT, f"the type {credential_type!r} must be a plain name such as MembershipCredential")
    if status is not None and fmt not in ("jwt", "jwt11"):
        raise ConnectorError(Reason.BAD_INPUT, "a revocable credential (--status) is issued as jwt or jwt11, not ldp")
    if suite is not None and fmt != "ldp":
        raise ConnectorError(Reason.BAD_INPUT, "a proof suite is chosen for --format ldp only")
    entry = status.entry(status.allocate(), fmt) if status is not None else None
    issued = issue_credential(
        signer, subject, [credential_type], dict(claims or {}), fmt, valid_for=validity, status=entry,
        suite=suite or "Ed25519Signature2020",
    )
    text, form = _document_text(issued)
    verification = await verify_credential_file(text, resolver)  # our own did:web is pinned
    if not verification.ok or verification.document is None:
        raise ConnectorError(Reason.INVALID_CREDENTIAL, "the credential just issued does not verify: " + "; ".join(verification.problems))
    stored = describe(verification.document, text, form, Role.ISSUED)
    await store.add(stored)
    return stored, issued


async def revoke(store: CredentialStore, registry: StatusRegistry, credential_id: str) -> tuple[StoredCredential, bool]:
    """Revoke a credential this node issued with a status entry; the bool says whether it
    was revoked now (False: it already was)."""
    stored = await find(store, Role.ISSUED.value, credential_id)
    index = index_of(_document_of(stored), registry)
    if index is None:
        raise ConnectorError(Reason.BAD_INPUT, f"the credential {credential_id} was issued without a status "
                             "entry, so it cannot be revoked (issue with --status)")
    return stored, registry.revoke(index)


def _document_of(stored: StoredCredential) -> dict[str, Any]:
    if stored.format is Format.LDP:
        return json.loads(stored.document)
    header, payload, _, _ = decode_parts(stored.document)
    read = read_jwt(header, payload)
    return payload if isinstance(read, str) else read[2]


def suite_signer(keys: KeyStore, did: str, suite: str | None) -> Signer:
    """The node's key a proof suite takes: Ed25519, else P-256 (ecdsa-rdfc-2019)."""
    if suite is not None and suite not in SUITES:
        raise ConnectorError(Reason.BAD_INPUT, f"unknown proof suite {suite!r} (known: {NAMES})")
    curves = SUITES[suite].curves if suite else ("Ed25519",)
    return Signer.for_store(keys, did, "Ed25519" if "Ed25519" in curves else "P-256")


def unwrapped(text: str) -> str:
    """The credential inside what `credential issue --json` and the management API print
    ({id, role, ..., credential}), so one feeds the other; any other text as it is."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if isinstance(data, dict) and "@context" not in data and "credential" in data:
        inner = data["credential"]
        return inner if isinstance(inner, str) else json.dumps(inner)
    return text


async def verify(text: str, resolver: DidResolver) -> Verification:
    """Verify a credential or presentation, bare or as `credential issue --json` printed it;
    a credential that names a status list must also be in good standing there."""
    return await with_status(await verify_credential_file(unwrapped(text), resolver), resolver)


async def with_status(verification: Verification, resolver: DidResolver) -> Verification:
    """VERIFICATION, with the status problems of a verified credential added."""
    document = verification.document
    if not verification.ok or document is None or is_presentation(document) or "credentialStatus" not in document:
        return verification
    problems = await StatusLists(resolver).problems(document)
    return Verification.of(problems, document, verification.issuer) if problems else verification


async def hold(
    store: CredentialStore, resolver: DidResolver, holder: str, text: str
) -> tuple[StoredCredential, bool]:
    """Verify a credential issued to HOLDER (this node) and keep it; idempotent on the same id."""
    text = unwrapped(text)
    verification = await with_status(await verify_credential_file(text, resolver), resolver)
    if not verification.ok or verification.document is None:
        raise ConnectorError(Reason.INVALID_CREDENTIAL, "; ".join(verification.problems) or "the credential does not verify")
    if is_presentation(verification.document):
        raise ConnectorError(Reason.BAD_INPUT, "store credentials one by one, not a presentation")
    fmt = Format.JWT if not text.lstrip().startswith("{") else Format.LDP
    stored = describe(verification.document, text.strip(), fmt, Role.HELD)
    if stored.subject != holder:
        raise ConnectorError(Reason.BAD_INPUT, f"the credential is about {stored.subject}, not this node ({holder})")
    created = await store.add(stored)
    return (stored if created else await store.get(stored.id, Role.HELD) or stored), created


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, f"the role {value!r} must be held or issued") from None


async def find(store: CredentialStore, role: str, credential_id: str) -> StoredCredential:
    stored = await store.get(credential_id, parse_role(role))
    if stored is None:
        raise ConnectorError(Reason.NOT_FOUND, f"no {role} credential {credential_id!r}")
    return stored


async def list_filtered(store: CredentialStore, query: Mapping[str, str]) -> list[StoredCredential]:
    role = parse_role(query["role"]) if "role" in query else None
    try:
        limit = min(max(int(query.get("limit", 100)), 1), 1000)
        offset = max(int(query.get("offset", 0)), 0)
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, "limit and offset must be integers") from None
    return await store.list(role=role, type_=query.get("type"), limit=limit, offset=offset)


def issued_view(stored: StoredCredential, issued: dict | str) -> dict[str, Any]:
    return {**stored.summary(), "credential": issued}


def verification_view(verification: Verification) -> dict[str, Any]:
    return {"ok": verification.ok, "problems": list(verification.problems), "issuer": verification.issuer}
