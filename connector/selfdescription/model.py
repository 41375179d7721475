"""What a participant's self-description is made of: pure data and the input rules.

The node's inputs (`communs init --country --registration-number`) are checked here once, so
builders only see well-formed values and every CLI/API error is one clear sentence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from connector.errors import ConnectorError, Reason


class Framework(StrEnum):
    """A trust-framework release, named like the SHACL shape set that checks it."""

    LOIRE = "gaiax-loire-25.11"  # VC 2.0, https://w3id.org/gaia-x/2511#
    LOIRE_DEVELOPMENT = "gaiax-loire-25.11-development"  # same shapes, development namespace
    TAGUS = "gaiax-tagus-22.10"  # VC 1.1, the registry's trustframework# namespace


GX_2511 = "https://w3id.org/gaia-x/2511#"
GX_DEVELOPMENT = "https://w3id.org/gaia-x/development#"
GX_TAGUS = "https://registry.lab.gaia-x.eu/development/api/trusted-shape-registry/v1/shapes/jsonld/trustframework#"
NAMESPACES = {
    Framework.LOIRE: GX_2511,
    Framework.LOIRE_DEVELOPMENT: GX_DEVELOPMENT,
    Framework.TAGUS: GX_TAGUS,
}
CONTEXT_URLS = {
    Framework.LOIRE: "https://w3id.org/gaia-x/2511#",
    Framework.LOIRE_DEVELOPMENT: "https://w3id.org/gaia-x/development#",
    Framework.TAGUS: GX_TAGUS,
}
SCHEMA = "https://schema.org/"

# SHA-256 of the Gaia-X T&C accepted by gx:Issuer in 25.11 (`sh:in` of gx:IssuerShape). The
# ontology marks the second one deprecated after 2026-03-31; we issue the current one.
TERMS_HASH = "067dcac5efd18c1927deb1ffed3feab6d0ad044c0a9a263e6d5d8bdc43224515"
TERMS_HASH_DEPRECATED = "4bd7554097444c960292b4726c2efa1373485e8a5565d94d41195214c5e0ceb3"
TERMS_HASH_DEPRECATED_AFTER = "2026-03-31T23:59:59Z"

# The 22.10 T&C text, byte for byte as gx:GaiaXTermsAndConditionsShape's sh:hasValue wants it.
TAGUS_TERMS = (
    "The PARTICIPANT signing the Self-Description agrees as follows:\n"
    "- to update its descriptions about any changes, be it technical, organizational, or legal"
    " - especially but not limited to contractual in regards to the indicated attributes present"
    " in the descriptions.\n\n"
    "The keypair used to sign Verifiable Credentials will be revoked where Gaia-X Association"
    " becomes aware of any inaccurate statements in regards to the claims which result in a"
    " non-compliance with the Trust Framework and policy rules defined in the Policy Rules and"
    " Labelling Document (PRLD)."
)

# Codes that ISO 3166-2 has replaced since users learnt them (the registry list has the new one).
SUPERSEDED_SUBDIVISIONS = {"FR-75": "FR-75C"}

REGISTRATION_TYPES = ("vatID", "leiCode", "EORI", "EUID", "taxID", "local")
_SUBDIVISION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


@cache
def subdivision_codes() -> frozenset[str]:
    """The ISO 3166-2 list gx-compliance checks `gx:countrySubdivisionCode` against."""
    data = (resources.files("vocab") / "data" / "iso-3166-2-country-codes.json").read_text()
    return frozenset(json.loads(data))


@cache
def country_codes() -> frozenset[str]:
    return frozenset(code.split("-", 1)[0] for code in subdivision_codes())


def check_subdivision(code: str) -> str:
    """The canonical ISO 3166-2 code for CODE, or a ConnectorError naming what is wrong."""
    value = code.strip().upper()
    value = SUPERSEDED_SUBDIVISIONS.get(value, value)
    if not _SUBDIVISION.match(value):
        raise ConnectorError(
            Reason.BAD_INPUT,
            f"{code!r} is not an ISO 3166-2 subdivision code (expected e.g. FR-75C or BE-BRU)",
        )
    if value not in subdivision_codes():
        raise ConnectorError(
            Reason.BAD_INPUT, f"{code!r} is not a known ISO 3166-2 subdivision code"
        )
    return value


@dataclass(frozen=True)
class RegistrationNumber:
    kind: str  # one of REGISTRATION_TYPES
    value: str

    @classmethod
    def parse(cls, text: str) -> RegistrationNumber:
        kind, sep, value = text.partition(":")
        by_lower = {t.lower(): t for t in REGISTRATION_TYPES}
        canonical = by_lower.get(kind.strip().lower())
        if not sep or canonical is None or not value.strip():
            raise ConnectorError(
                Reason.BAD_INPUT,
                f"{text!r} is not a registration number: use TYPE:VALUE with TYPE one of "
                + ", ".join(REGISTRATION_TYPES),
            )
        return cls(canonical, value.strip())

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Participant:
    """Who the node says it is."""

    name: str
    did: str
    subdivision: str  # ISO 3166-2, checked
    registration: RegistrationNumber
    base_url: str  # where the node publishes its credentials (ids of the VCs)

    @property
    def country(self) -> str:
        return self.subdivision.split("-", 1)[0]

    @classmethod
    def of(
        cls, name: str, did: str, subdivision: str, registration: str, base_url: str | None = None
    ) -> Participant:
        if not name.strip():
            raise ConnectorError(Reason.BAD_INPUT, "the participant's name must not be empty")
        if not did.startswith("did:"):
            raise ConnectorError(Reason.BAD_INPUT, f"{did!r} is not a DID")
        if base_url is None:
            if not did.startswith("did:web:"):
                raise ConnectorError(Reason.BAD_INPUT, "a base URL is needed for a non-did:web DID")
            from connector.identity.did import url_from_did_web

            document = url_from_did_web(did)  # .../.well-known/did.json or .../did.json
            base_url = document.removesuffix("/.well-known/did.json").removesuffix("/did.json")
        return cls(
            name.strip(),
            did,
            check_subdivision(subdivision),
            RegistrationNumber.parse(registration),
            base_url.rstrip("/"),
        )
