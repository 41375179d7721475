"""vc+jwt and vp+jwt (VC-JOSE-COSE): round trips and every refusal."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from connector.identity.did import Signer
from connector.identity.jose import issue_vc_jwt, issue_vp_jwt, sign_jwt, verify_jwt
from connector.identity.keys import generate_key
from connector.identity.proofs import issue_ldp

VC_V2 = "https://www.w3.org/ns/credentials/v2"


def vc(issuer: str, **extra) -> dict:
    return {"@context": [VC_V2], "type": ["VerifiableCredential", "MembershipCredential"],
            "issuer": issuer, "validFrom": "2024-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:member", "memberOf": "fed-1"}, **extra}


def parts(token: str) -> tuple[dict, dict]:
    def load(part: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    head, payload, _ = token.split(".")
    return load(head), load(payload)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("crv, alg", [("Ed25519", "EdDSA"), ("P-256", "ES256")])
async def test_vc_jwt_round_trip_did_key(resolver, crv, alg):
    signer = Signer.for_did_key(generate_key(crv))
    token = issue_vc_jwt(vc(signer.did), signer)
    header, payload = parts(token)
    assert header == {"alg": alg, "kid": signer.verification_method, "typ": "vc+jwt", "cty": "vc"}
    assert payload == vc(signer.did)
    result = await verify_jwt(token, resolver)
    assert result.ok, result.problems
    assert result.issuer == signer.did and result.document == payload


@pytest.mark.parametrize("index", [0, 1])
async def test_jwt_round_trip_did_web(resolver, web_node, index):
    signer = web_node[index]
    result = await verify_jwt(issue_vc_jwt(vc(signer.did), signer), resolver)
    assert result.ok, result.problems
    vp = issue_vp_jwt({"@context": [VC_V2], "type": ["VerifiablePresentation"],
                       "verifiableCredential": [issue_vc_jwt(vc(signer.did), signer)]},
                      signer, nonce="n1", audience="did:web:verifier")
    result = await verify_jwt(vp, resolver, nonce="n1", audience="did:web:verifier")
    assert result.ok, result.problems


async def test_vp_jwt_with_jwt_and_ldp_credentials(resolver, ed_signer, p256_signer):
    ldp = issue_ldp({"@context": ["https://www.w3.org/2018/credentials/v1"],
                     "type": ["VerifiableCredential"], "issuer": ed_signer.did,
                     "issuanceDate": "2024-01-01T00:00:00Z",
                     "credentialSubject": {"id": p256_signer.did}}, ed_signer)
    token = issue_vp_jwt({"@context": [VC_V2], "type": ["VerifiablePresentation"],
                          "verifiableCredential": [issue_vc_jwt(vc(ed_signer.did), ed_signer), ldp]},
                         p256_signer, nonce="abc", audience="did:web:v.example")
    header, payload = parts(token)
    assert header["typ"] == "vp+jwt" and payload["holder"] == p256_signer.did
    assert payload["verifiableCredential"][0]["id"].startswith("data:application/vc+jwt,ey")
    result = await verify_jwt(token, resolver, nonce="abc", audience="did:web:v.example")
    assert result.ok, result.problems
    result = await verify_jwt(token, resolver, nonce="other", audience="did:web:elsewhere")
    assert set(result.problems) == {"the JWT nonce is not the expected one",
                                    "the JWT audience is 'did:web:v.example', not 'did:web:elsewhere'"}


async def test_tampered_payload(resolver, ed_signer):
    token = issue_vc_jwt(vc(ed_signer.did), ed_signer)
    head, _, signature = token.split(".")
    forged = vc(ed_signer.did)
    forged["credentialSubject"]["memberOf"] = "fed-2"
    result = await verify_jwt(f"{head}.{b64(forged)}.{signature}", resolver)
    assert result.problems == ("the JWT signature does not match its content (altered or another key)",)


async def test_alg_none_and_hmac_are_refused(resolver, ed_signer):
    payload = b64(vc(ed_signer.did))
    for alg in ("none", "HS256", None):
        header = b64({"alg": alg, "typ": "vc+jwt", "kid": ed_signer.verification_method})
        result = await verify_jwt(f"{header}.{payload}.", resolver)
        assert result.problems == (f"the JWT algorithm {alg!r} is not accepted "
                                   "(EdDSA, ES256, ES384, RS256/384/512 or PS256/384/512)",)


async def test_wrong_typ(resolver, ed_signer):
    for typ in ("JWT", None, "vc+sd-jwt"):
        token = sign_jwt({"typ": typ}, vc(ed_signer.did), ed_signer)
        result = await verify_jwt(token, resolver)
        assert result.problems == (f"the JWT type {typ!r} is neither vc+jwt nor vp+jwt, nor a "
                                   "VC-JWT 1.1 (typ JWT with a vc or vp claim)",)


async def test_issuer_binding(resolver, ed_signer):
    other = Signer.for_did_key(generate_key("Ed25519"))
    result = await verify_jwt(issue_vc_jwt(vc(ed_signer.did), other), resolver)
    assert result.problems == (
        f"the JWT is signed with a key of {other.did}, but its issuer is {ed_signer.did}",)
    result = await verify_jwt(issue_vc_jwt(vc(other.did, iss=ed_signer.did), other), resolver)
    assert result.problems == (
        f"the JWT is signed with a key of {other.did}, but its iss is {ed_signer.did}",)


async def test_wrong_key_for_kid(resolver, ed_signer):
    impostor = Signer(generate_key("Ed25519"), ed_signer.verification_method)
    result = await verify_jwt(issue_vc_jwt(vc(ed_signer.did), impostor), resolver)
    assert not result.ok and "does not match" in result.problems[0]
    p256 = Signer(generate_key("P-256"), ed_signer.verification_method)
    result = await verify_jwt(issue_vc_jwt(vc(ed_signer.did), p256), resolver)
    assert result.problems == (
        f"the JWT algorithm ES256 does not fit the key {ed_signer.verification_method}",)


async def test_dates(resolver, ed_signer):
    now = datetime(2025, 6, 1, tzinfo=UTC)
    expired = issue_vc_jwt(vc(ed_signer.did, validUntil="2025-01-01T00:00:00Z"), ed_signer)
    assert (await verify_jwt(expired, resolver, now=now)).problems == (
        "the credential expired at 2025-01-01T00:00:00Z",)
    early = issue_vc_jwt(vc(ed_signer.did, validFrom="2026-01-01T00:00:00Z"), ed_signer)
    assert (await verify_jwt(early, resolver, now=now)).problems == (
        "the credential is not valid before 2026-01-01T00:00:00Z",)
    exp = issue_vc_jwt(vc(ed_signer.did, exp=int(now.timestamp()) - 10), ed_signer)
    assert (await verify_jwt(exp, resolver, now=now)).problems[0].startswith("the JWT expired at")
    nbf = issue_vc_jwt(vc(ed_signer.did, nbf=int(now.timestamp()) + 3600), ed_signer)
    assert "not valid before" in (await verify_jwt(nbf, resolver, now=now)).problems[0]


async def test_vp_with_tampered_enveloped_vc(resolver, ed_signer, p256_signer):
    inner = issue_vc_jwt(vc(ed_signer.did), ed_signer)
    head, _, signature = inner.split(".")
    forged = f"{head}.{b64(vc(ed_signer.did, credentialSubject={'id': 'did:example:me'}))}.{signature}"
    token = issue_vp_jwt({"@context": [VC_V2], "type": ["VerifiablePresentation"],
                          "verifiableCredential": [forged]}, p256_signer)
    result = await verify_jwt(token, resolver)
    assert result.problems == ("credential 1: the JWT signature does not match its content "
                               "(altered or another key)",)
    vp_inside = issue_vp_jwt({"@context": [VC_V2], "type": ["VerifiablePresentation"],
                              "verifiableCredential": [token]}, p256_signer)
    assert (await verify_jwt(vp_inside, resolver)).problems == (
        "credential 1: the enveloped token is not a vc+jwt",)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "e30.e30", "!!.??.--", 42])
async def test_garbage_tokens(resolver, token):
    result = await verify_jwt(token, resolver)
    assert not result.ok and len(result.problems) == 1


async def test_unresolvable_kid(resolver, ed_signer):
    token = sign_jwt({"typ": "vc+jwt", "kid": "did:example:1#k"}, vc("did:example:1"), ed_signer)
    result = await verify_jwt(token, resolver)
    assert result.problems == ("the DID method 'example' is not supported (did:web and did:key are)",)
