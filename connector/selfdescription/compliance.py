"""The checks the Gaia-X compliance service makes beyond SHACL.

gx-compliance (README-api, "Compliance checks"): every credential is signed and its
signature verifies; issuers, holders and verification methods are coherent DIDs; country
subdivision codes are in its ISO 3166-2 list; a participant comes with its registration
number credential and the issuer's terms and conditions; nothing is expired. The participant itself (class, holder,
name) is checked in participant.py, registration numbers in registration.py, label criteria
in labels.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from connector.errors import ConnectorError, Reason
from connector.identity.jose import verify_jwt
from connector.identity.ldp import verify_ldp
from connector.identity.resolver import DidResolver
from connector.identity.verification import did_of, id_of, parse_datetime, validity_problems
from connector.selfdescription import report as r
from connector.selfdescription.model import (
    NAMESPACES,
    SUPERSEDED_SUBDIVISIONS,
    TERMS_HASH_DEPRECATED,
    TERMS_HASH_DEPRECATED_AFTER,
    Framework,
    country_codes,
    subdivision_codes,
)
from connector.selfdescription.parse import Parsed
from connector.selfdescription.report import Problem

CRED = "https://www.w3.org/2018/credentials#"


class OfflineResolver(DidResolver):
    """did:key only: used when no resolver is given, so validation never touches the network."""

    async def resolve(self, did: str) -> dict[str, Any]:
        if did_of(did).startswith("did:key:"):
            return await super().resolve(did)
        raise ConnectorError(
            Reason.DID_RESOLUTION, f"{did_of(did)} cannot be resolved offline (no resolver given)"
        )


# ---------------------------------------------------------------------------- signatures


async def signature_problems(parsed: Parsed, resolver: DidResolver, now: datetime) -> list[Problem]:
    problems: list[Problem] = []
    if parsed.jwt is not None and parsed.presentation is not None:  # a vp+jwt
        outer = await verify_jwt(parsed.jwt, resolver, now=now)
        problems += [Problem(r.SIGNATURE, m, _vp_id(parsed)) for m in outer.problems]
        return problems  # verify_jwt verified every enveloped credential too
    if parsed.presentation is not None and "proof" in parsed.presentation:
        outer = await verify_ldp(parsed.presentation, resolver, purpose="authentication", now=now)
        problems += [Problem(r.SIGNATURE, m, _vp_id(parsed)) for m in outer.problems]
    for c in parsed.credentials:
        if c.jwt is not None:
            result = await verify_jwt(c.jwt, resolver, now=now)
        elif "proof" in c.document:
            result = await verify_ldp(c.document, resolver, now=now)
        else:
            problems.append(Problem(r.PROOF_MISSING, f"{c.id} has no proof", c.id))
            continue
        problems += [Problem(r.SIGNATURE, f"{c.id}: {m}", c.id) for m in result.problems]
    return problems


def _vp_id(parsed: Parsed) -> str | None:
    vp = parsed.presentation or {}
    value = vp.get("id") or vp.get("@id")
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------------------- documents


def expiry_problems(parsed: Parsed, now: datetime) -> list[Problem]:
    docs = [(c.id, c.document) for c in parsed.credentials]
    if parsed.presentation is not None:
        docs.append((_vp_id(parsed) or "the presentation", parsed.presentation))
    return [
        Problem(r.EXPIRY, f"{ident}: {m}", ident)
        for ident, d in docs
        for m in validity_problems(d, now)
    ]


def did_problems(parsed: Parsed) -> list[Problem]:
    """Issuer, holder, verification methods and JWT kid/iss name the same DIDs."""
    problems: list[Problem] = []
    holder = id_of((parsed.presentation or {}).get("holder"))
    signer = _signer(parsed.presentation or {}, parsed.header)
    if holder and signer and signer != holder:
        problems.append(
            Problem(
                r.DID_CONSISTENCY,
                f"the presentation's holder {holder} did not sign it ({signer} did)",
                holder,
            )
        )
    for c in parsed.credentials:
        issuer = id_of(c.document.get("issuer"))
        if issuer is None or not issuer.startswith("did:"):
            problems.append(
                Problem(r.DID_CONSISTENCY, f"{c.id}: the issuer {issuer!r} is not a DID", c.id)
            )
            continue
        method = _signer(c.document, c.header)
        if method is not None and method != issuer:
            problems.append(
                Problem(
                    r.DID_CONSISTENCY,
                    f"{c.id} is issued by {issuer} but signed with a key of {method}",
                    c.id,
                )
            )
        if c.jwt is not None and c.document.get("iss") not in (None, issuer):
            problems.append(
                Problem(r.DID_CONSISTENCY, f"{c.id}: the JWT iss is not the issuer", c.id)
            )
    return problems


def _signer(doc: dict[str, Any], header: dict[str, Any] | None) -> str | None:
    if header is not None:
        kid = header.get("kid")
        return did_of(kid) if isinstance(kid, str) and kid.startswith("did:") else None
    proof = doc.get("proof")
    proof = proof[0] if isinstance(proof, list) and proof else proof
    if isinstance(proof, dict) and isinstance(proof.get("verificationMethod"), str):
        return did_of(proof["verificationMethod"])
    return None


def identifier_problems(parsed: Parsed) -> list[Problem]:
    """25.11 credential format: the VP, each VC and each subject have distinct ids."""
    seen: dict[str, str] = {}
    problems: list[Problem] = []

    def claim(ident: Any, what: str) -> None:
        if not isinstance(ident, str):
            return
        if ident in seen:
            problems.append(
                Problem(r.IDENTIFIERS, f"{what} reuses the id {ident} of {seen[ident]}", ident)
            )
        else:
            seen[ident] = what

    if parsed.presentation is not None:
        claim(_vp_id(parsed), "the presentation")
    for c in parsed.credentials:
        claim(c.document.get("id"), f"credential {c.position}")
    for c in parsed.credentials:
        subjects = c.document.get("credentialSubject")
        for s in subjects if isinstance(subjects, list) else [subjects]:
            if isinstance(s, dict):
                claim(s.get("id"), f"the subject of credential {c.position}")
    return problems


# ---------------------------------------------------------------------------- graph checks


def _local(predicate: Any) -> str:
    text = str(predicate)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def country_problems(graph: Graph) -> list[Problem]:
    problems: list[Problem] = []
    for s, p, o in graph:
        name = _local(p)
        value = str(o)
        if name in ("countrySubdivisionCode", "subdivisionCountryCode"):
            if value.upper() in SUPERSEDED_SUBDIVISIONS:
                problems.append(
                    Problem(
                        r.COUNTRY_CODE,
                        f"{value!r} was replaced by {SUPERSEDED_SUBDIVISIONS[value.upper()]!r} in"
                        " ISO 3166-2 (kept where the 22.10 shape cannot express the new code)",
                        str(s),
                        str(p),
                        severity="Warning",
                    )
                )
            elif value.upper() not in subdivision_codes():
                problems.append(
                    Problem(
                        r.COUNTRY_CODE,
                        f"{value!r} is not an ISO 3166-2 subdivision code",
                        str(s),
                        str(p),
                    )
                )
        elif name == "countryCode" and len(value) == 2 and value.isalpha():
            if value.upper() not in country_codes():
                problems.append(
                    Problem(
                        r.COUNTRY_CODE,
                        f"{value!r} is not an ISO 3166-1 country code",
                        str(s),
                        str(p),
                    )
                )
    return problems


def _subjects(graph: Graph) -> dict[Any, set[str]]:
    """credentialSubject -> the issuers of the credentials that describe it."""
    found: dict[Any, set[str]] = {}
    for vc, subject in graph.subject_objects(URIRef(CRED + "credentialSubject")):
        issuers = {str(i) for i in graph.objects(vc, URIRef(CRED + "issuer"))}
        found.setdefault(subject, set()).update(issuers)
    return found


def required_problems(graph: Graph, framework: Framework, now: datetime) -> list[Problem]:
    """A participant comes with its registration number credential and accepted T&C."""
    gx = NAMESPACES[framework]
    tagus = framework is Framework.TAGUS
    person, link = (
        ("LegalParticipant", "legalRegistrationNumber")
        if tagus
        else ("LegalPerson", "registrationNumber")
    )
    subjects = _subjects(graph)
    problems: list[Problem] = []
    for participant in graph.subjects(RDF.type, URIRef(gx + person)):
        focus = str(participant)
        numbers = list(graph.objects(participant, URIRef(gx + link)))
        if not any(n in subjects and _is_registration(graph, n, gx, tagus) for n in numbers):
            problems.append(
                Problem(
                    r.REQUIRED_CREDENTIAL,
                    f"the gx:{person} has no registration number credential",
                    focus,
                    gx + link,
                )
            )
        issuers = subjects.get(participant, set())
        problems += _terms_problems(graph, subjects, issuers, gx, tagus, focus, now)
    return problems


def _is_registration(graph: Graph, node: Any, gx: str, tagus: bool) -> bool:
    types = {str(t) for t in graph.objects(node, RDF.type)}
    if tagus:
        return gx + "legalRegistrationNumber" in types
    kinds = (
        "RegistrationNumber",
        "VatID",
        "LeiCode",
        "EORI",
        "EUID",
        "TaxID",
        "LocalRegistrationNumber",
    )
    return any(gx + k in types for k in kinds)


def _terms_problems(
    graph: Graph,
    subjects: dict[Any, set[str]],
    issuers: Iterable[str],
    gx: str,
    tagus: bool,
    focus: str,
    now: datetime,
) -> list[Problem]:
    kind, prop = (
        ("GaiaXTermsAndConditions", "termsAndConditions")
        if tagus
        else ("Issuer", "gaiaxTermsAndConditions")
    )
    accepted: dict[str, list[str]] = {}
    for node in graph.subjects(RDF.type, URIRef(gx + kind)):
        values = [str(v) for v in graph.objects(node, URIRef(gx + prop))]
        for issuer in subjects.get(node, set()):
            accepted.setdefault(issuer, []).extend(values)
    problems: list[Problem] = []
    for issuer in sorted(issuers):
        if issuer not in accepted:
            problems.append(
                Problem(
                    r.REQUIRED_CREDENTIAL,
                    f"{issuer} issued the participant but no gx:{kind} credential",
                    focus,
                )
            )
        elif not tagus and accepted[issuer] == [TERMS_HASH_DEPRECATED]:
            deadline = parse_datetime(TERMS_HASH_DEPRECATED_AFTER)
            if deadline is not None and now > deadline:
                problems.append(
                    Problem(
                        r.TERMS,
                        f"{issuer} accepted T&C whose hash is deprecated since 2026-03-31",
                        focus,
                        gx + prop,
                    )
                )
    return problems
