"""The unsigned credentials of a participant's self-description, for Loire 25.11 and Tagus 22.10.

Loire 25.11 asks a legal person for three credentials (Gaia-X compliance document, "How to
become a Gaia-X compliant participant"): the LegalPerson, its registration number (issued
by a notary; self-issued here until one does) and the issuer's acceptance of the Gaia-X
terms and conditions (gx:Issuer with the T&C hash). Tagus 22.10 asks for the same three as
gx:LegalParticipant, gx:legalRegistrationNumber and gx:GaiaXTermsAndConditions.

Identifiers: the 25.11 credential format wants the presentation, each credential and each
subject to have distinct ids, and the 25.11 shapes are closed, so the LegalPerson (the DID
itself), its registration number and its issuer role are three different nodes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.errors import ConnectorError, Reason
from connector.selfdescription.model import (
    CONTEXT_URLS,
    SCHEMA,
    SUPERSEDED_SUBDIVISIONS,
    TAGUS_TERMS,
    TERMS_HASH,
    Framework,
    Participant,
)

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
JWS_2020 = "https://w3id.org/security/suites/jws-2020/v1"
VALIDITY = timedelta(days=365)

# credential roles, in presentation order
LEGAL_PERSON = "legal-person"
REGISTRATION_NUMBER = "registration-number"
TERMS = "terms-and-conditions"
ROLES = (LEGAL_PERSON, REGISTRATION_NUMBER, TERMS)


def _xsd(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _credentials(
    p: Participant,
    context: list[Any],
    ids: dict[str, str],
    subjects: dict[str, str],
    claims: dict[str, dict[str, Any]],
    validity: tuple[str, str],  # VC 2.0 validFrom/validUntil, VC 1.1 issuanceDate/expirationDate
    now: datetime,
    valid_for: timedelta,
) -> dict[str, dict[str, Any]]:
    """One self-issued credential per role, in presentation order."""
    start, end = validity
    return {
        role: {
            "@context": context,
            "id": ids[role],
            "type": ["VerifiableCredential"],
            "issuer": p.did,
            start: _xsd(now),
            end: _xsd(now + valid_for),
            "credentialSubject": {"id": subjects[role], **claims[role]},
        }
        for role in ROLES
    }


def subject_ids(p: Participant) -> dict[str, str]:
    return {
        LEGAL_PERSON: p.did,
        REGISTRATION_NUMBER: f"{p.did}#registration-number",
        TERMS: f"{p.did}#issuer",
    }


def credential_ids(p: Participant, framework: Framework) -> dict[str, str]:
    folder = "tagus" if framework is Framework.TAGUS else "loire"
    return {role: f"{p.base_url}/self-description/{folder}/{role}.json" for role in ROLES}


# ---------------------------------------------------------------------------- Loire 25.11


def _loire_registration(p: Participant) -> dict[str, Any]:
    kind, value, country = p.registration.kind, p.registration.value, p.country
    claims: dict[str, tuple[str, dict[str, Any]]] = {
        "vatID": ("VatID", {"vatID": value, "countryCode": country}),
        "leiCode": (
            "LeiCode",
            {"leiCode": value, "countryCode": country, "subdivisionCountryCode": p.subdivision},
        ),
        "EORI": ("EORI", {"eori": value}),
        "EUID": ("EUID", {"euid": value}),
        "taxID": ("TaxID", {f"{SCHEMA}taxID": value}),
        "local": ("LocalRegistrationNumber", {"local": value}),
    }
    cls, properties = claims[kind]
    # typed with the abstract class too: LegalPerson's sh:class gx:RegistrationNumber is checked
    # on the data graph, which carries no rdfs:subClassOf axioms
    return {"type": ["RegistrationNumber", cls], **properties}


def loire_credentials(
    p: Participant,
    *,
    now: datetime,
    framework: Framework = Framework.LOIRE,
    valid_for: timedelta = VALIDITY,
) -> dict[str, dict[str, Any]]:
    """The three unsigned VC 2.0 credentials by role (LEGAL_PERSON, REGISTRATION_NUMBER, TERMS)."""
    if framework is Framework.TAGUS:
        raise ValueError("use tagus_credentials for 22.10")
    context = [VC_V2, CONTEXT_URLS[framework]]
    ids, subjects = credential_ids(p, framework), subject_ids(p)
    address = {"type": "Address", "countryCode": p.country}
    claims = {
        LEGAL_PERSON: {
            "type": "LegalPerson",
            "name": p.name,
            "registrationNumber": subjects[REGISTRATION_NUMBER],
            "headquartersAddress": dict(address),
            "legalAddress": dict(address),
        },
        REGISTRATION_NUMBER: _loire_registration(p),
        TERMS: {"type": "Issuer", "gaiaxTermsAndConditions": TERMS_HASH},
    }
    return _credentials(p, context, ids, subjects, claims, ("validFrom", "validUntil"), now, valid_for)


def loire_presentation(
    p: Participant, credentials: list[Any], presentation_id: str
) -> dict[str, Any]:
    """A VC 2.0 presentation; CREDENTIALS are JSON-LD dicts or `vc+jwt` tokens (enveloped)."""
    return {
        "@context": [VC_V2],
        "id": presentation_id,
        "type": ["VerifiablePresentation"],
        "holder": p.did,
        "verifiableCredential": [
            c
            if isinstance(c, dict)
            else {
                "@context": [VC_V2],
                "id": f"data:application/vc+jwt,{c}",
                "type": "EnvelopedVerifiableCredential",
            }
            for c in credentials
        ],
    }


# ---------------------------------------------------------------------------- Tagus 22.10

_TAGUS_SUBDIVISION = re.compile(r"^[a-zA-Z]{2}-(?:[a-zA-Z]{1,3}|[0-9]{1,3})$")
_TAGUS_REGISTRATION = {
    "vatID": "gx:vatID",
    "leiCode": "gx:leiCode",
    "EORI": "gx:EORI",
    "EUID": "gx:EUID",
    "taxID": "gx:taxID",
}


def _tagus_subdivision(code: str) -> str:
    """22.10's PostalAddressShape pattern predates codes that mix letters and digits (FR-75C,
    Paris, replacing FR-75 in 2021): such a code falls back to the code it replaced, which the
    validator accepts with a warning; with no such code, 22.10 cannot say it."""
    if _TAGUS_SUBDIVISION.match(code):
        return code
    legacy = {new: old for old, new in SUPERSEDED_SUBDIVISIONS.items()}.get(code)
    if legacy is None:
        raise ConnectorError(
            Reason.BAD_INPUT,
            f"Tagus 22.10 cannot express the subdivision code {code!r}"
            " (its shape wants 1-3 letters or 1-3 digits after the country)",
        )
    return legacy


def tagus_credentials(
    p: Participant, *, now: datetime, valid_for: timedelta = VALIDITY
) -> dict[str, dict[str, Any]]:
    """The three unsigned VC 1.1 credentials of 22.10, by role."""
    key = _TAGUS_REGISTRATION.get(p.registration.kind)
    if key is None:
        raise ConnectorError(
            Reason.BAD_INPUT,
            f"Tagus 22.10 has no {p.registration.kind!r} registration number"
            " (it knows vatID, leiCode, EORI, EUID, taxID)",
        )
    subdivision = _tagus_subdivision(p.subdivision)
    context = [VC_V1, JWS_2020, CONTEXT_URLS[Framework.TAGUS]]
    ids, subjects = credential_ids(p, Framework.TAGUS), subject_ids(p)
    address = {"gx:countrySubdivisionCode": subdivision}
    registration: dict[str, Any] = {"type": "gx:legalRegistrationNumber", key: p.registration.value}
    if p.registration.kind == "vatID":
        registration["gx:vatID-countryCode"] = p.country
    claims = {
        LEGAL_PERSON: {
            "type": "gx:LegalParticipant",
            "gx:legalName": p.name,
            "gx:legalRegistrationNumber": {"id": subjects[REGISTRATION_NUMBER]},
            "gx:headquarterAddress": dict(address),
            "gx:legalAddress": dict(address),
        },
        REGISTRATION_NUMBER: registration,
        TERMS: {"type": "gx:GaiaXTermsAndConditions", "gx:termsAndConditions": TAGUS_TERMS},
    }
    return _credentials(
        p, context, ids, subjects, claims, ("issuanceDate", "expirationDate"), now, valid_for
    )


def tagus_presentation(p: Participant, credentials: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": [VC_V1],
        "type": ["VerifiablePresentation"],
        "holder": p.did,
        "verifiableCredential": credentials,
    }
