"""Linked-Data proofs on credentials: every suite and key type, did:key and did:web issuers."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from connector.errors import ConnectorError
from connector.identity.did import Signer
from connector.identity.keys import generate_key
from connector.identity.ldp import issue_ldp, verify_ldp

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VOCAB = {"@vocab": "https://www.w3.org/ns/credentials/issuer-dependent#"}


def credential(issuer: str, **extra) -> dict:
    return {
        "@context": [VC_V1, VOCAB],
        "id": "urn:uuid:2b7c7a8a-8e3e-4c44-9d1c-6a1f3f0c9a11",
        "type": ["VerifiableCredential", "MembershipCredential"],
        "issuer": issuer,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:member", "memberOf": "fed-1", "level": 2},
        **extra,
    }


SUITES = [("Ed25519Signature2020", "Ed25519"), ("JsonWebSignature2020", "Ed25519"),
          ("JsonWebSignature2020", "P-256")]


@pytest.mark.parametrize("suite, crv", SUITES)
async def test_round_trip_did_key(resolver, suite, crv):
    signer = Signer.for_did_key(generate_key(crv))
    signed = issue_ldp(credential(signer.did), signer, suite=suite)
    assert signed["proof"]["type"] == suite
    result = await verify_ldp(signed, resolver)
    assert result.ok, result.problems
    assert result.issuer == signer.did and result.document == signed


@pytest.mark.parametrize("suite, crv", SUITES)
async def test_round_trip_did_web(resolver, web_node, suite, crv):
    signer = web_node[0] if crv == "Ed25519" else web_node[1]
    signed = issue_ldp(credential(signer.did), signer, suite=suite)
    result = await verify_ldp(signed, resolver)
    assert result.ok, result.problems
    assert result.issuer.startswith("did:web:127.0.0.1%3A")


def test_issuing_does_not_change_the_input(ed_signer):
    original = credential(ed_signer.did)
    before = copy.deepcopy(original)
    issue_ldp(original, ed_signer)
    assert original == before


@pytest.mark.parametrize(
    "path, value",
    [
        (("credentialSubject", "level"), 3),
        (("credentialSubject", "memberOf"), "fed-2"),
        (("credentialSubject", "id"), "did:example:other"),
        (("issuanceDate",), "2024-01-02T00:00:00Z"),
        (("type",), ["VerifiableCredential", "OtherCredential"]),
        (("proof", "created"), "2020-01-01T00:00:00Z"),
    ],
)
async def test_tampering_anywhere_fails(resolver, ed_signer, path, value):
    signed = issue_ldp(credential(ed_signer.did), ed_signer)
    tampered = copy.deepcopy(signed)
    target = tampered
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    result = await verify_ldp(tampered, resolver)
    assert not result.ok
    assert "the proof does not match the document" in " ".join(result.problems)


async def test_added_undefined_property_is_reported(resolver, ed_signer):
    doc = credential(ed_signer.did)
    doc["@context"] = [VC_V1]  # no @vocab: undefined claims would vanish from the signed graph
    doc["credentialSubject"] = {"id": "did:example:member"}
    doc["type"] = ["VerifiableCredential"]
    signed = issue_ldp(doc, ed_signer)
    signed["credentialSubject"]["admin"] = True
    result = await verify_ldp(signed, resolver)
    assert not result.ok
    assert "'admin' is not defined by the document's @context" in result.problems[0]


def test_signing_undefined_terms_is_refused(ed_signer):
    doc = credential(ed_signer.did)
    doc["@context"] = [VC_V1]
    with pytest.raises(ConnectorError, match="not defined by the document's @context"):
        issue_ldp(doc, ed_signer)
    doc = credential(ed_signer.did)
    doc["@context"] = [VC_V1]
    doc["credentialSubject"] = {"id": "did:example:x"}
    doc["type"] = ["VerifiableCredential", "UndefinedType"]
    with pytest.raises(ConnectorError, match="'UndefinedType' is neither defined"):
        issue_ldp(doc, ed_signer)


async def test_wrong_key(resolver, ed_signer):
    signed = issue_ldp(credential(ed_signer.did), ed_signer)
    forged = issue_ldp(credential(ed_signer.did), Signer(generate_key("Ed25519"),
                                                        ed_signer.verification_method))
    signed["proof"] = forged["proof"]
    result = await verify_ldp(forged, resolver)
    assert not result.ok and "does not match" in result.problems[0]


async def test_issuer_and_key_mismatch(resolver, ed_signer):
    other = Signer.for_did_key(generate_key("Ed25519"))
    signed = issue_ldp(credential(ed_signer.did), other)  # valid signature, wrong issuer
    result = await verify_ldp(signed, resolver)
    assert not result.ok
    assert result.problems == (
        f"the proof is made with a key of {other.did}, but the issuer is {ed_signer.did}",)


async def test_key_not_an_assertion_method(resolver, did_server, node_store):
    from connector.identity.did import did_web_document

    document = did_web_document(did_server.did, node_store, [])
    document["assertionMethod"] = [f"{did_server.did}#key-p256"]
    did_server.serve_json("/.well-known/did.json", document)
    signer = Signer.for_store(node_store, did_server.did)
    result = await verify_ldp(issue_ldp(credential(signer.did), signer), resolver)
    assert result.problems == (f"the key #key-ed25519 is not an assertionMethod of {signer.did}",)


async def test_expired_and_not_yet_valid(resolver, ed_signer):
    now = datetime(2025, 6, 1, tzinfo=UTC)
    expired = issue_ldp(credential(ed_signer.did, expirationDate="2025-01-01T00:00:00Z"), ed_signer,
                        created=now - timedelta(days=200))
    result = await verify_ldp(expired, resolver, now=now)
    assert result.problems == ("the credential expired at 2025-01-01T00:00:00Z",)
    future = credential(ed_signer.did)
    future["issuanceDate"] = "2026-01-01T00:00:00Z"
    result = await verify_ldp(issue_ldp(future, ed_signer, created=now), resolver, now=now)
    assert result.problems == ("the credential is not valid before 2026-01-01T00:00:00Z",)
    v2 = credential(ed_signer.did, validUntil="2025-02-01T00:00:00Z")
    result = await verify_ldp(issue_ldp(v2, ed_signer, created=now), resolver, now=now)
    assert "the credential expired at 2025-02-01T00:00:00Z" in result.problems


async def test_wrong_purpose(resolver, ed_signer):
    signed = issue_ldp(credential(ed_signer.did), ed_signer, purpose="authentication")
    result = await verify_ldp(signed, resolver)
    assert "the proof's purpose is 'authentication', not 'assertionMethod'" in result.problems


async def test_unknown_remote_context_is_a_clear_problem(resolver, ed_signer):
    signed = issue_ldp(credential(ed_signer.did), ed_signer)
    signed["@context"].append("https://evil.example/context.jsonld")
    result = await verify_ldp(signed, resolver)
    assert not result.ok
    assert "'https://evil.example/context.jsonld' is not bundled" in result.problems[0]
    with pytest.raises(ConnectorError, match="not bundled"):
        issue_ldp({**credential(ed_signer.did), "@context": [VC_V1, "https://evil.example/c"]},
                  ed_signer)


async def test_malformed_proofs(resolver, ed_signer):
    signed = issue_ldp(credential(ed_signer.did), ed_signer)
    cases = {
        "no proof": ({k: v for k, v in signed.items() if k != "proof"}, "has no proof"),
        "bad type": ({**signed, "proof": {**signed["proof"], "type": "RsaSignature2018"}},
                     "not supported"),
        "no vm": ({**signed, "proof": {**signed["proof"], "verificationMethod": 5}}, "not a DID URL"),
        "bad value": ({**signed, "proof": {**signed["proof"], "proofValue": "z0OIl"}}, "base58btc"),
        "not object": ({**signed, "proof": "x"}, "not a JSON object"),
    }
    for name, (doc, message) in cases.items():
        result = await verify_ldp(doc, resolver)
        assert not result.ok, name
        assert message in " ".join(result.problems), (name, result.problems)


def test_suite_and_key_must_fit(p256_signer, ed_signer):
    with pytest.raises(ConnectorError, match="needs an Ed25519 key"):
        issue_ldp(credential(p256_signer.did), p256_signer)
    with pytest.raises(ConnectorError, match="unknown proof suite"):
        issue_ldp(credential(ed_signer.did), ed_signer, suite="BbsBlsSignature2020")
    with pytest.raises(ConnectorError, match="already has a proof"):
        issue_ldp(issue_ldp(credential(ed_signer.did), ed_signer), ed_signer)
