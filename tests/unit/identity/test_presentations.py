"""LD-proof presentations: holder binding, challenge, domain, embedded LDP and JWT credentials."""

from __future__ import annotations

import copy

import pytest

from connector.identity.did import Signer
from connector.identity.jose import issue_vc_jwt
from connector.identity.keys import generate_key
from connector.identity.proofs import issue_ldp, issue_presentation, verify_presentation

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VOCAB = {"@vocab": "https://www.w3.org/ns/credentials/issuer-dependent#"}


def ldp_vc(issuer: Signer, subject: str) -> dict:
    return issue_ldp({
        "@context": [VC_V1, VOCAB], "type": ["VerifiableCredential", "MembershipCredential"],
        "issuer": issuer.did, "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, "memberOf": "fed-1"},
    }, issuer)


def jwt_vc(issuer: Signer, subject: str) -> str:
    return issue_vc_jwt({
        "@context": [VC_V2], "type": ["VerifiableCredential", "MembershipCredential"],
        "issuer": issuer.did, "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, "memberOf": "fed-1"},
    }, issuer)


@pytest.fixture(scope="module")
def issuer() -> Signer:
    return Signer.for_did_key(generate_key("Ed25519"))


@pytest.mark.parametrize("suite, crv", [("Ed25519Signature2020", "Ed25519"),
                                        ("JsonWebSignature2020", "Ed25519"),
                                        ("JsonWebSignature2020", "P-256")])
async def test_round_trip_with_both_credential_formats(resolver, issuer, suite, crv):
    holder = Signer.for_did_key(generate_key(crv))
    vp = issue_presentation([ldp_vc(issuer, holder.did), jwt_vc(issuer, holder.did)], holder,
                            challenge="n-0S6", domain="did:web:verifier.example", suite=suite)
    assert vp["@context"][0] == VC_V2
    assert vp["verifiableCredential"][1]["type"] == "EnvelopedVerifiableCredential"
    result = await verify_presentation(vp, resolver, challenge="n-0S6",
                                       domain="did:web:verifier.example")
    assert result.ok, result.problems
    assert result.issuer == holder.did


async def test_round_trip_did_web_holder(resolver, issuer, web_node):
    holder = web_node[0]
    vp = issue_presentation([ldp_vc(issuer, holder.did)], holder, challenge="c")
    assert vp["@context"] == [VC_V1, "https://w3id.org/security/suites/ed25519-2020/v1"]
    result = await verify_presentation(vp, resolver, challenge="c")
    assert result.ok, result.problems


async def test_wrong_challenge_and_domain(resolver, issuer):
    holder = Signer.for_did_key(generate_key("Ed25519"))
    vp = issue_presentation([ldp_vc(issuer, holder.did)], holder, challenge="abc", domain="a.example")
    result = await verify_presentation(vp, resolver, challenge="xyz", domain="b.example")
    assert set(result.problems) == {"the proof's challenge is not the expected one",
                                    "the proof's domain is not the expected one"}
    no_challenge = issue_presentation([], holder)
    result = await verify_presentation(no_challenge, resolver, challenge="abc")
    assert result.problems == ("the proof's challenge is not the expected one",)


async def test_tampered_embedded_credential(resolver, issuer):
    holder = Signer.for_did_key(generate_key("Ed25519"))
    vc = ldp_vc(issuer, holder.did)
    forged_vc = copy.deepcopy(vc)
    forged_vc["credentialSubject"]["memberOf"] = "fed-2"
    # the holder signs the presentation *after* tampering: only the credential's own proof fails
    vp = issue_presentation([forged_vc], holder, challenge="c")
    result = await verify_presentation(vp, resolver, challenge="c")
    assert not result.ok
    assert result.problems[0].startswith("credential 1: the proof does not match the document")
    # tampering after the holder signed breaks both proofs
    vp = issue_presentation([vc], holder, challenge="c")
    vp["verifiableCredential"][0]["credentialSubject"]["memberOf"] = "fed-3"
    result = await verify_presentation(vp, resolver, challenge="c")
    assert len(result.problems) == 2


async def test_tampered_enveloped_jwt(resolver, issuer):
    holder = Signer.for_did_key(generate_key("Ed25519"))
    jwt = jwt_vc(issuer, holder.did)
    head, payload, signature = jwt.split(".")
    forged = f"{head}.{jwt_vc(issuer, 'did:example:someone-else').split('.')[1]}.{signature}"
    vp = issue_presentation([forged], holder)
    result = await verify_presentation(vp, resolver)
    assert result.problems == ("credential 1: the JWT signature does not match its content "
                               "(altered or another key)",)


async def test_holder_must_be_the_signer(resolver, issuer):
    holder = Signer.for_did_key(generate_key("Ed25519"))
    thief = Signer.for_did_key(generate_key("Ed25519"))
    vp = issue_presentation([ldp_vc(issuer, holder.did)], holder)
    stolen = {k: v for k, v in vp.items() if k != "proof"}
    resigned = issue_ldp(stolen, thief, purpose="authentication")
    result = await verify_presentation(resigned, resolver)
    assert result.problems == (
        f"the proof is made with a key of {thief.did}, but the holder is {holder.did}",)


async def test_assertion_proof_is_not_an_authentication(resolver, issuer):
    holder = Signer.for_did_key(generate_key("Ed25519"))
    vp = issue_presentation([], holder)
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    result = await verify_presentation(issue_ldp(unsigned, holder), resolver)
    assert "the proof's purpose is 'assertionMethod', not 'authentication'" in result.problems


async def test_not_a_presentation(resolver, issuer):
    result = await verify_presentation(ldp_vc(issuer, "did:example:x"), resolver)
    assert result.problems == ("the document is not a VerifiablePresentation",)
