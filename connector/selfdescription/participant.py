"""Who the presentation is about: the checks gx-compliance makes on the participant itself.

A participant's self-description is a presentation whose holder is described by a participant
credential of the framework's class (gx:LegalPerson in 25.11, gx:LegalParticipant in 22.10)
with a non-empty legal name (registration numbers: registration.py). SHACL cannot say
any of this: a presentation without such a credential, or one whose subject's type was
changed to a class no shape targets, gives SHACL nothing to check.
"""

from __future__ import annotations

from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from connector.identity.verification import did_of, id_of
from connector.selfdescription import report as r
from connector.selfdescription.model import NAMESPACES, SCHEMA, Framework
from connector.selfdescription.parse import Parsed
from connector.selfdescription.report import Problem

CRED = "https://www.w3.org/2018/credentials#"

# properties only a participant has: a subject with one of them but not the class was retyped
_PARTICIPANT_ONLY = (
    "registrationNumber",
    "legalRegistrationNumber",
    "legalAddress",
    "headquartersAddress",
    "headquarterAddress",
    "legalName",
)


def participant_class(framework: Framework) -> str:
    return "LegalParticipant" if framework is Framework.TAGUS else "LegalPerson"


def holder_of(parsed: Parsed) -> str | None:
    """The presentation's holder, or without one, the DID that signed it (a vp+jwt's iss, the
    verification method of an LD proof)."""
    vp = parsed.presentation or {}
    holder = id_of(vp.get("holder"))
    if holder is None and parsed.jwt is not None and isinstance(vp.get("iss"), str):
        holder = vp["iss"]
    if holder is None and parsed.jwt is None:
        proofs = vp.get("proof")
        for proof in proofs if isinstance(proofs, list) else [proofs]:
            method = proof.get("verificationMethod") if isinstance(proof, dict) else None
            if isinstance(id_of(method), str):
                holder = id_of(method)
                break
    return did_of(holder) if isinstance(holder, str) and holder.startswith("did:") else holder


def _short(iri: str, gx: str) -> str:
    return "gx:" + iri[len(gx) :] if iri.startswith(gx) else iri


def participant_problems(graph: Graph, parsed: Parsed, framework: Framework) -> list[Problem]:
    """A presentation must describe its holder with one participant credential of the right class."""
    if parsed.presentation is None:
        return []  # a lone credential is checked for what it says, not for what it lacks
    gx = NAMESPACES[framework]
    wanted = URIRef(gx + participant_class(framework))
    holder = holder_of(parsed)
    issuers: dict[Any, set[str]] = {}
    for vc, subject in graph.subject_objects(URIRef(CRED + "credentialSubject")):
        issuers.setdefault(subject, set()).update(
            str(i) for i in graph.objects(vc, URIRef(CRED + "issuer"))
        )
    participants = [s for s in issuers if (s, RDF.type, wanted) in graph]
    if not participants:
        return [_missing(graph, issuers, holder, gx, wanted)]
    problems: list[Problem] = []
    for subject in participants:
        problems += _holder_problems(str(subject), issuers[subject], holder, wanted, gx)
        problems += _name_problems(graph, subject, framework, gx)
    return problems


def _missing(
    graph: Graph, issuers: dict[Any, set[str]], holder: str | None, gx: str, wanted: URIRef
) -> Problem:
    for subject in issuers:
        is_holder = holder is not None and str(subject) == holder
        if is_holder or any((subject, URIRef(gx + p), None) in graph for p in _PARTICIPANT_ONLY):
            types = sorted(_short(str(t), gx) for t in graph.objects(subject, RDF.type))
            described = ", ".join(types) if types else "nothing"
            return Problem(
                r.PARTICIPANT,
                f"the participant {subject} is described as {described}, where its participant"
                f" credential must be a {_short(str(wanted), gx)}",
                str(subject),
                str(RDF.type),
            )
    return Problem(
        r.PARTICIPANT,
        f"the presentation holds no {_short(str(wanted), gx)} credential: a participant's"
        " self-description needs one, with its registration number and accepted terms",
        holder,
    )


def _holder_problems(
    subject: str, issuers: set[str], holder: str | None, wanted: URIRef, gx: str
) -> list[Problem]:
    if holder is None:
        return []
    what = _short(str(wanted), gx)
    if subject.startswith("did:"):
        if did_of(subject) != holder:
            return [
                Problem(
                    r.PARTICIPANT,
                    f"the {what} is {did_of(subject)}, not the presentation's holder {holder}",
                    subject,
                )
            ]
        return []
    # a subject named by a URL: the participant issues its own participant credential
    if issuers and holder not in {did_of(i) for i in issuers}:
        return [
            Problem(
                r.PARTICIPANT,
                f"the {what} {subject} was issued by {', '.join(sorted(issuers))},"
                f" not by the presentation's holder {holder}",
                subject,
            )
        ]
    return []


def _name_problems(graph: Graph, subject: Any, framework: Framework, gx: str) -> list[Problem]:
    prop = URIRef(gx + "legalName" if framework is Framework.TAGUS else SCHEMA + "name")
    return [
        Problem(r.PARTICIPANT, "the participant's legal name is empty", str(subject), str(prop))
        for name in graph.objects(subject, prop)
        if not str(name).strip()
    ]

