"""Linked-Data proofs of VC Data Model 1.1: Ed25519Signature2020 and JsonWebSignature2020.

Both suites sign sha256(canon(proof options)) || sha256(canon(document)), canon being URDNA2015
over the offline contexts. Ed25519Signature2020 puts the raw signature in `proofValue`
(multibase base58btc); JsonWebSignature2020 puts a detached, unencoded-payload JWS (RFC 7797)
in `jws`.

Canonicalization is strict: a term no context defines, or a relative IRI, is dropped by JSON-LD
and so would not be covered by the signature; we refuse to sign such a document and report
it when verifying (like the "safe mode" of other implementations), instead of letting anything
be changed undetected.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
from datetime import datetime
from typing import Any

import base58
from pyld.jsonld import JsonLdError, JsonLdProcessor

from connector import strictjson
from connector.errors import ConnectorError, Reason
from connector.identity.base64url import decode as b64u_decode
from connector.identity.base64url import encode as b64u_encode
from connector.identity.did import ED25519_2020, JWS_2020, Signer
from connector.identity.keys import jwk_alg, verify_signature
from connector.identity.resolver import DidResolver
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
from vocab.errors import VocabError, VocabReason
from vocab.loader import document_loader

SUITES = {"Ed25519Signature2020": ED25519_2020, "JsonWebSignature2020": JWS_2020}
_UNRESOLVED = "https://unresolved.communs.invalid/"  # base IRI that makes relative IRIs visible
_OPTIONS = {"documentLoader": document_loader, "algorithm": "URDNA2015",
            "format": "application/n-quads", "base": _UNRESOLVED}


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
        nquads = processor.normalize(doc, dict(_OPTIONS))
    except JsonLdError as exc:
        raise _vocab_error(exc) from None
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


def _sha(doc: dict[str, Any]) -> bytes:
    return hashlib.sha256(canonical_strict(doc).encode()).digest()


def _contexts(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _options_hash(proof: dict[str, Any], doc_context: list[Any]) -> bytes:
    options = {k: v for k, v in proof.items() if k not in ("proofValue", "jws", "@context")}
    context = list(doc_context)
    # some issuers (ssi/didkit) put the suite context on the proof instead of the document
    context += [c for c in _contexts(proof.get("@context", [])) if c not in context]
    return _sha({"@context": context, **options})


def _jws_header(alg: str) -> str:
    return b64u_encode(json.dumps({"alg": alg, "b64": False, "crit": ["b64"]}, separators=(",", ":")).encode())


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
    """A copy of `doc` with a proof (the suite's context is appended to its @context)."""
    if suite not in SUITES:
        raise ConnectorError(Reason.BAD_INPUT, f"unknown proof suite {suite!r}")
    if suite == "Ed25519Signature2020" and signer.key.crv != "Ed25519":
        raise ConnectorError(Reason.BAD_INPUT, "Ed25519Signature2020 needs an Ed25519 key")
    if not isinstance(doc, dict) or "@context" not in doc:
        raise ConnectorError(Reason.BAD_INPUT, "only a JSON-LD object with an @context is signed")
    if "proof" in doc:
        raise ConnectorError(Reason.BAD_INPUT, "the document already has a proof")
    signed = copy.deepcopy(doc)
    context = _contexts(signed["@context"])
    if SUITES[suite] not in context:
        context.append(SUITES[suite])
    signed["@context"] = context
    proof: dict[str, Any] = {"type": suite, "created": xsd_now(created),
                             "verificationMethod": signer.verification_method,
                             "proofPurpose": purpose}
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    try:
        data = _options_hash(proof, context) + _sha(signed)
    except VocabError as exc:
        raise ConnectorError(Reason.BAD_INPUT, str(exc)) from None
    if suite == "Ed25519Signature2020":
        proof["proofValue"] = "z" + base58.b58encode(signer.key.sign(data)).decode()
    else:
        header = _jws_header(signer.key.alg)
        signature = signer.key.sign(header.encode() + b"." + data)
        proof["jws"] = f"{header}..{b64u_encode(signature)}"
    signed["proof"] = proof
    return signed


def _signature_ok(proof: dict[str, Any], key: dict[str, Any], data: bytes) -> str | None:
    """None if the proof's signature over `data` is valid, else the problem."""
    mismatch = "the proof does not match the document (it was altered, or signed by another key)"
    if proof["type"] == "Ed25519Signature2020":
        value = proof.get("proofValue")
        if not isinstance(value, str) or not value.startswith("z"):
            return "the proof has no base58btc proofValue"
        try:
            signature = base58.b58decode(value[1:])
        except ValueError:
            return "the proofValue is not valid base58btc"
        return None if verify_signature(key, "EdDSA", data, signature) else mismatch
    jws = proof.get("jws")
    if not isinstance(jws, str) or jws.count(".") != 2 or jws.split(".")[1] != "":
        return "the proof has no detached JWS"
    header_b64, _, signature_b64 = jws.split(".")
    try:
        header = strictjson.loads(b64u_decode(header_b64))
        signature = b64u_decode(signature_b64)
    except ValueError:
        return "the proof's JWS is not valid base64url JSON"
    if not isinstance(header, dict) or header.get("b64") is not False or header.get("crit") != ["b64"]:
        return "the proof's JWS header must be unencoded-payload ({b64: false, crit: [b64]})"
    if header.get("alg") != jwk_alg(key):
        return f"the JWS algorithm {header.get('alg')!r} does not fit the key"
    ok = verify_signature(key, header["alg"], header_b64.encode() + b"." + data, signature)
    return None if ok else mismatch


async def _proof_problems(
    proof: Any, context: list[Any], doc_hash: bytes, resolver: DidResolver, *, purpose: str,
    challenge: str | None, domain: str | None, now: datetime, claimed: str | None, role: str,
) -> list[str]:
    if not isinstance(proof, dict):
        return ["the proof is not a JSON object"]
    if proof.get("type") not in SUITES:
        return [f"the proof type {proof.get('type')!r} is not supported "
                f"(Ed25519Signature2020 and JsonWebSignature2020 are)"]
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
    if created is None:
        problems.append("the proof has no valid created date-time")
    elif created > now + CLOCK_SKEW:
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
        data = await asyncio.to_thread(_options_hash, proof, context) + doc_hash
    except VocabError as exc:
        return problems + [f"the proof options cannot be canonicalized: {exc}"]
    problem = _signature_ok(proof, key, data)
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
        doc_hash = await asyncio.to_thread(_sha, unsigned)
    except VocabError as exc:
        return Verification.failed(str(exc), doc)
    context = _contexts(doc["@context"])
    for proof in proofs:
        problems += await _proof_problems(
            proof, context, doc_hash, resolver, purpose=purpose, challenge=challenge,
            domain=domain, now=now, claimed=claimed, role=role,
        )
    problems += validity_problems(doc, now)
    signer = claimed
    if signer is None and isinstance(proofs[0], dict):
        signer = did_of(str(proofs[0].get("verificationMethod", ""))) or None
    return Verification.of(problems, doc, signer)
