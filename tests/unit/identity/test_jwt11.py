"""VC-JWT of VC Data Model 1.1 (DCP's vc11-sl2021/jwt profile): what other wallets send."""

from __future__ import annotations

import base64
import json

import pytest

from connector.auth.tokens import verify_id_token
from connector.errors import ConnectorError
from connector.identity.did import Signer
from connector.identity.jose import issue_vc_jwt, sign_jwt, verify_jwt
from connector.identity.jwt11 import issue_vc11_jwt, issue_vp11_jwt
from connector.identity.keys import generate_key
from connector.identity.verification import utcnow

VC_V1 = "https://www.w3.org/2018/credentials/v1"


def vc11(issuer: str, subject: str = "did:example:member", **extra) -> dict:
    return {"@context": [VC_V1], "id": "urn:uuid:1", "type": ["VerifiableCredential", "MembershipCredential"],
            "issuer": issuer, "issuanceDate": "2024-01-01T00:00:00Z",
            "credentialSubject": {"id": subject, "memberOf": "fed-1"}, **extra}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("crv", ["Ed25519", "P-256"])
async def test_a_vc11_jwt_verifies_and_reads_as_a_credential(resolver, crv):
    signer = Signer.for_did_key(generate_key(crv))
    result = await verify_jwt(issue_vc11_jwt(vc11(signer.did), signer), resolver)
    assert result.ok, result.problems
    assert result.document["credentialSubject"]["id"] == "did:example:member"
    assert result.issuer == signer.did


async def test_claims_alone_make_the_credential(resolver, ed_signer):
    """What many wallets send: no typ, the issuer, subject, dates and id only as JWT claims."""
    body = {"@context": [VC_V1], "type": ["VerifiableCredential"], "credentialSubject": {"level": "gold"}}
    payload = {"iss": ed_signer.did, "sub": "did:example:member", "nbf": 1704067200,
               "exp": 4102444800, "jti": "urn:uuid:7", "vc": body}
    token = sign_jwt({}, payload, ed_signer)
    result = await verify_jwt(token, resolver)
    assert result.ok, result.problems
    assert result.document == {**body, "issuer": ed_signer.did, "id": "urn:uuid:7",
                               "credentialSubject": {"id": "did:example:member", "level": "gold"},
                               "issuanceDate": "2024-01-01T00:00:00Z",
                               "expirationDate": "2100-01-01T00:00:00Z"}
    expired = sign_jwt({}, {**payload, "exp": 1704067300}, ed_signer)
    assert "the JWT expired" in " ".join((await verify_jwt(expired, resolver)).problems)


@pytest.mark.parametrize("claim, value, words", [
    ("sub", "did:example:thief", "names did:example:thief as the subject"),
    ("iss", "did:example:boss", "names did:example:boss as the issuer"),
    # the id is what a holder keeps it by and an issuer revokes it by
    ("jti", "urn:uuid:2", "names urn:uuid:2 as the id"),
])
async def test_claims_and_properties_must_agree(resolver, ed_signer, claim, value, words):
    token = sign_jwt({"typ": "JWT"}, {"iss": ed_signer.did, "sub": "did:example:member",
                                      "vc": vc11(ed_signer.did), claim: value}, ed_signer)
    result = await verify_jwt(token, resolver)
    assert not result.ok and any(words in p for p in result.problems)


async def test_a_tampered_vc11_jwt_is_refused(resolver, ed_signer):
    head, payload, signature = issue_vc11_jwt(vc11(ed_signer.did), ed_signer).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["vc"]["credentialSubject"]["memberOf"] = "fed-2"
    result = await verify_jwt(f"{head}.{b64(claims)}.{signature}", resolver)
    assert result.problems == ("the JWT signature does not match its content (altered or another key)",)


async def test_a_vc11_presentation_verifies_with_its_credentials(resolver, ed_signer, p256_signer):
    credential = issue_vc11_jwt(vc11(ed_signer.did, p256_signer.did), ed_signer)
    vp = issue_vp11_jwt([credential], p256_signer, audience="did:web:verifier", nonce="n1")
    result = await verify_jwt(vp, resolver, audience="did:web:verifier", nonce="n1")
    assert result.ok, result.problems
    assert result.document["holder"] == p256_signer.did
    assert result.document["verifiableCredential"] == [credential]
    assert not (await verify_jwt(vp, resolver, audience="did:web:elsewhere")).ok


async def test_profiles_do_not_mix_in_a_presentation(resolver, ed_signer, p256_signer):
    vc20 = issue_vc_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"],
                         "type": ["VerifiableCredential"], "issuer": ed_signer.did,
                         "credentialSubject": {"id": p256_signer.did}}, ed_signer)
    result = await verify_jwt(issue_vp11_jwt([vc20], p256_signer), resolver)
    assert result.problems == ("credential 1: a VC-JWT 2.0 credential in a VC 1.1 presentation "
                               "(DCP profiles do not mix)",)
    inner = issue_vp11_jwt([], ed_signer)  # a presentation is not a credential
    assert "not a vc+jwt" in (await verify_jwt(issue_vp11_jwt([inner], p256_signer), resolver)).problems[0]


async def test_a_vc11_presentation_is_never_an_id_token(resolver, ed_signer):
    vp = sign_jwt({"typ": "JWT"}, {"iss": ed_signer.did, "sub": ed_signer.did, "aud": "did:web:v",
                                   "jti": "j", "iat": int(utcnow().timestamp()),
                                   "exp": int(utcnow().timestamp()) + 60, "token": "t",
                                   "vp": {"type": ["VerifiablePresentation"]}}, ed_signer)
    with pytest.raises(ConnectorError, match="not an ID token"):
        await verify_id_token(vp, resolver, "did:web:v")


async def test_sub_binds_a_single_subject_given_as_a_list(resolver, ed_signer):
    body = {"@context": [VC_V1], "type": ["VerifiableCredential"], "credentialSubject": [{"level": "gold"}]}
    token = sign_jwt({}, {"iss": ed_signer.did, "sub": "did:example:member", "vc": body}, ed_signer)
    result = await verify_jwt(token, resolver)
    assert result.ok and result.document["credentialSubject"] == [{"id": "did:example:member", "level": "gold"}]
    two = {**body, "credentialSubject": [{"level": "gold"}, {"level": "silver"}]}
    token = sign_jwt({}, {"iss": ed_signer.did, "sub": "did:example:member", "vc": two}, ed_signer)
    assert "several subjects" in (await verify_jwt(token, resolver)).problems[0]
