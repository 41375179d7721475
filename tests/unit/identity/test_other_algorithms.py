"""JWT credentials and presentations signed with ES384 or RSA, as other wallets may (DCP's
profiles leave the algorithm open: "RSA, EC and EdDSA"); communs itself signs EdDSA or ES256."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwcrypto import jwk

from connector.auth.tokens import verify_id_token
from connector.identity.did import Signer, did_web_document
from connector.identity.jose import issue_vc_jwt, verify_jwt
from connector.identity.jwt11 import issue_vc11_jwt, issue_vp11_jwt
from connector.identity.keys import generate_key
from connector.identity.verification import utcnow


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rsa_signed(header: dict, payload: dict, private: rsa.RSAPrivateKey, alg: str) -> str:
    digest = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}[alg[2:]]()
    pad = padding.PKCS1v15() if alg.startswith("RS") else padding.PSS(padding.MGF1(digest), digest.digest_size)
    signing_input = f"{b64(json.dumps({'alg': alg, **header}).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(private.sign(signing_input.encode(), pad, digest))}"


@pytest.fixture
def rsa_wallet(did_server, node_store):
    """A did:web whose document lists an RSA key (publicKeyJwk) for assertions and authentication."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwk.JWK.from_pyca(private.public_key()).export_public(as_dict=True)
    did = did_server.did
    document = did_web_document(did, node_store, [])
    method = {"id": f"{did}#rsa", "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": public}
    document["verificationMethod"].append(method)
    for relation in ("assertionMethod", "authentication"):
        document[relation].append(method["id"])
    did_server.serve_json("/.well-known/did.json", document)
    return did, private


@pytest.mark.parametrize("alg", ["RS256", "PS256", "RS512"])
async def test_an_rsa_signed_vc11_credential_verifies(resolver, rsa_wallet, alg):
    did, private = rsa_wallet
    payload = {"iss": did, "sub": "did:example:m", "nbf": 1704067200,
               "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
                      "credentialSubject": {}}}
    token = rsa_signed({"kid": f"{did}#rsa"}, payload, private, alg)
    result = await verify_jwt(token, resolver)
    assert result.ok, result.problems
    forged = rsa_signed({"kid": f"{did}#rsa"}, {**payload, "sub": "did:example:thief"}, private, alg)
    head, _, signature = token.split(".")
    assert not (await verify_jwt(f"{head}.{forged.split('.')[1]}.{signature}", resolver)).ok


async def test_a_short_rsa_key_is_refused(resolver, did_server, node_store):
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    public = jwk.JWK.from_pyca(private.public_key()).export_public(as_dict=True)
    did = did_server.did
    document = did_web_document(did, node_store, [])
    document["verificationMethod"].append({"id": f"{did}#rsa", "type": "JsonWebKey2020", "controller": did,
                                           "publicKeyJwk": public})
    document["assertionMethod"].append(f"{did}#rsa")
    did_server.serve_json("/.well-known/did.json", document)
    token = rsa_signed({"kid": f"{did}#rsa", "typ": "vc+jwt"}, {"issuer": did, "credentialSubject": {}}, private, "RS256")
    assert "does not fit the key" in (await verify_jwt(token, resolver)).problems[0]


async def test_es384_credentials_and_presentations(resolver):
    issuer, holder = Signer.for_did_key(generate_key("P-384")), Signer.for_did_key(generate_key("P-384"))
    vc20 = issue_vc_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                         "issuer": issuer.did, "credentialSubject": {"id": holder.did}}, issuer)
    assert (await verify_jwt(vc20, resolver)).ok
    vc11 = issue_vc11_jwt({"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
                           "issuer": issuer.did, "credentialSubject": {"id": holder.did}}, issuer)
    result = await verify_jwt(issue_vp11_jwt([vc11], holder, audience="did:web:v"), resolver, audience="did:web:v")
    assert result.ok, result.problems


async def test_an_id_token_signed_with_rsa_is_accepted(resolver, rsa_wallet):
    did, private = rsa_wallet
    now = int(utcnow().timestamp())
    token = rsa_signed({"kid": f"{did}#rsa", "typ": "JWT"}, {"iss": did, "sub": did, "aud": "did:web:v", "jti": "j1",
                                                           "iat": now, "exp": now + 60, "token": "t"}, private, "PS256")
    assert (await verify_id_token(token, resolver, "did:web:v")).issuer == did
