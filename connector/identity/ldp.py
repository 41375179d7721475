"""Linked-Data proofs: issuing and verifying them over URDNA2015 with the offline contexts.

Every suite (Ed25519Signature2020 and 2018, JsonWebSignature2020, Data Integrity
eddsa-rdfc-2022 and ecdsa-rdfc-2019: see suites.py) signs hash(canon(proof options)) ||
hash(canon(document)); this module canonicalizes, checks purpose, challenge, domain, dates
and the binding of the key to the issuer or holder, and leaves the signature to the suite.

Canonicalization is strict: a term no context defines, or a relative IRI, is dropped by JSON-LD
and so would not be covered by the signature; we refuse to sign such a document and report
it when verifying (like the "safe mode" of other implementations), instead of letting anything
be changed undetected.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime
from typing import Any

from pyld.jsonld import JsonLdError, JsonLdProcessor

from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer
from connector.identity.resolver import DidResolver
from connector.identity.suites import NAMES, SUITES, hash_data, sign, signature_problem, suite_of
from connector.identity.verification import (
    CLOCK_SKEW,
    Verification,
    did_of,
    id_of,
    is_presentation,
    parse_datetime,
    utcnow,
    validity_problems,
    xsd_now,
)
from vocab.canon import canonical_nquads
from vocab.errors import VocabError, VocabReason
from vocab.loader import document_loader

_UNRESOLVED = "https://unresolved.communs.invalid/"  # base IRI that makes relative IRIs visible
_OPTIONS = {"documentLoader": document_loader, "base": _UNRESOLVED}


def _vocab_error(exc: JsonLdError) -> VocabError:
    cause: BaseException | None = exc
    while cause is not None:  # the loader's VocabError (unbundled context) is wrapped by pyld
        if isinstance(cause, VocabError):
            return cause
        cause = getattr(cause, "cause", None) or cause.__cause__
    return VocabError(VocabReason.MALFORMED_JSONLD, f"invalid JSON-LD: {exc}")


def canonical_strict(doc: dict[str, Any]) -> str:
    """URDNA2015 N-Quads; VocabError if any part of the document would escape the signature."""
    dropped: list[str] = []
    processor = JsonLdProcessor(on_property_dropped=lambda p: dropped.append(str(p)))
    try:
        dataset = processor.to_rdf(doc, dict(_OPTIONS))
    except JsonLdError as exc:
        raise _vocab_error(exc) from None
    nquads = canonical_nquads(dataset)  # bounded: the document may come from anyone
    if dropped:
        raise VocabError(
            VocabReason.MALFORMED_JSONLD,
            f"the term {dropped[0]!r} is not defined by the document's @context, "
            "so a proof would not cover it",
        )
    if _UNRESOLVED in nquads:
        start = nquads.index(_UNRESOLVED) + len(_UNRESOLVED)
        name = nquads[start : nquads.index(">", start)]
        raise VocabError(
            VocabReason.MALFORMED_JSONLD,
            f"{name!r} is neither defined by the document's @context nor an absolute IRI, "
            "so a proof would not cover it",
        )
    return nquads


def _canon(doc: dict[str, Any]) -> str:
    return canonical_strict(doc)


def _contexts(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _options_nquads(proof: dict[str, Any], doc_context: list[Any]) -> str:
    options = {k: v for k, v in proof.items() if k not in ("proofValue", "jws", "@context")}
    context = list(doc_context)
    # some issuers (ssi/didkit) put the suite context on the proof instead of the document
    context += [c for c in _contexts(proof.get("@context", [])) if c not in context]
    return canonical_strict({"@context": context, **options})


def issue_ldp(
    doc: dict[str, Any],
    signer: Signer,
    *,
    suite: str = "Ed25519Signature2020",
    purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """A copy of `doc` with a proof of SUITE (a proof type, or a Data Integrity cryptosuite:
    see suites.py); the suite's context is appended to its @context when it needs one."""
    chosen = SUITES.get(suite)
    if chosen is None:
        raise ConnectorError(Reason.BAD_INPUT, f"unknown proof suite {suite!r} (known: {NAMES})")
    if signer.key.crv not in chosen.curves:
        article = "an" if chosen.curves[0] == "Ed25519" else "a"
        raise ConnectorError(Reason.BAD_INPUT, f"{suite} needs {article} {' or '.join(chosen.curves)} key")
    if not isinstance(doc, dict) or "@context" not in doc:
        raise ConnectorError(Reason.BAD_INPUT, "only a JSON-LD object with an @context is signed")
    if "proof" in doc:
        raise ConnectorError(Reason.BAD_INPUT, "the document already has a proof")
    signed = copy.deepcopy(doc)
    context = _contexts(signed["@context"])
    extra = chosen.needs_context(context)
    if extra is not None:
        context.append(extra)
    signed["@context"] = context
    proof: dict[str, Any] = {"type": chosen.proof_type}
    if chosen.cryptosuite:
        proof["cryptosuite"] = chosen.cryptosuite
    proof.update({"created": xsd_now(created), "verificationMethod": signer.verification_method,
                  "proofPurpose": purpose})
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    try:
        data = hash_data(_options_nquads(proof, context), _canon(signed), signer.key.crv)
    except VocabError as exc:
        raise ConnectorError(Reason.BAD_INPUT, str(exc)) from None
    proof.update(sign(chosen, signer.key, data))
    signed["proof"] = proof
    return signed


async def _proof_problems(
    proof: Any, context: list[Any], doc_nquads: str, resolver: DidResolver, *, purpose: str,
    challenge: str | None, domain: str | None, now: datetime, claimed: str | None, role: str,
) -> list[str]:
    if not isinstance(proof, dict):
        return ["the proof is not a JSON object"]
    suite = suite_of(proof)
    if suite is None:
        named = proof.get("type") if proof.get("type") != "DataIntegrityProof" else \
            f"DataIntegrityProof with cryptosuite {proof.get('cryptosuite')!r}"
        return [f"the proof type {named!r} is not supported ({NAMES} are)"]
    vm = proof.get("verificationMethod")
    if not isinstance(vm, str) or "#" not in vm:
        return ["the proof's verificationMethod is not a DID URL"]
    problems: list[str] = []
    if proof.get("proofPurpose") != purpose:
        problems.append(f"the proof's purpose is {proof.get('proofPurpose')!r}, not {purpose!r}")
    if challenge is not None and proof.get("challenge") != challenge:
        problems.append("the proof's challenge is not the expected one")
    found_domain = proof.get("domain")
    if domain is not None and domain != found_domain and not (
        isinstance(found_domain, list) and domain in found_domain
    ):
        problems.append("the proof's domain is not the expected one")
    created = parse_datetime(proof.get("created"))
    if created is None and ("created" in proof or suite.cryptosuite is None):
        problems.append("the proof has no valid created date-time")  # optional in Data Integrity
    elif created is not None and created > now + CLOCK_SKEW:
        problems.append(f"the proof was created in the future ({proof['created']})")
    expires = parse_datetime(proof.get("expires"))
    if expires is not None and expires <= now:
        problems.append(f"the proof expired at {proof['expires']}")
    if claimed is not None and claimed != did_of(vm):
        problems.append(f"the proof is made with a key of {did_of(vm)}, but the {role} is {claimed}")
    try:
        key = await resolver.verification_key(vm, purpose)
    except ConnectorError as exc:
        return problems + [str(exc)]
    try:
        options = await asyncio.to_thread(_options_nquads, proof, context)
    except VocabError as exc:
        return problems + [f"the proof options cannot be canonicalized: {exc}"]
    problem = signature_problem(suite, proof, key, hash_data(options, doc_nquads, key.get("crv")))
    return problems + ([problem] if problem else [])


async def verify_ldp(
    doc: dict[str, Any],
    resolver: DidResolver,
    *,
    purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
) -> Verification:
    """Checks the proof(s), the key's relationship, issuer/holder binding and validity dates."""
    if not isinstance(doc, dict):
        return Verification.failed("the document is not a JSON object")
    if "proof" not in doc:
        return Verification.failed("the document has no proof", doc)
    if "@context" not in doc:
        return Verification.failed("the document has no @context", doc)
    now = now or utcnow()
    presentation = is_presentation(doc)
    role = "holder" if presentation else "issuer"
    claimed = id_of(doc.get(role))
    problems: list[str] = []
    if not presentation and claimed is None:
        problems.append("the credential has no issuer")
    proofs = doc["proof"] if isinstance(doc["proof"], list) else [doc["proof"]]
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    try:
        doc_nquads = await asyncio.to_thread(_canon, unsigned)
    except VocabError as exc:
        return Verification.failed(str(exc), doc)
    context = _contexts(doc["@context"])
    for proof in proofs:
        problems += await _proof_problems(
            proof, context, doc_nquads, resolver, purpose=purpose, challenge=challenge,
            domain=domain, now=now, claimed=claimed, role=role,
        )
    problems += validity_problems(doc, now)
    signer = claimed
    if signer is None and isinstance(proofs[0], dict):
        signer = did_of(str(proofs[0].get("verificationMethod", ""))) or None
    return Verification.of(problems, doc, signer)
