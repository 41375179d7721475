"""Self-issued ID tokens: what is accepted, and each way a bad one is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from connector.auth.credential_service import issue_access_token, verify_access_token
from connector.auth.scopes import MEMBERSHIP, parse_scopes
from connector.auth.tokens import issue_id_token, verify_id_token
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer, did_web_document
from connector.identity.jose import issue_vc_jwt, sign_jwt
from connector.identity.keys import KeyStore, generate_key
from connector.identity.resolver import DidResolver

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
VERIFIER = "did:web:verifier.example"


@pytest.fixture
def caller() -> Signer:
    return Signer.for_did_key(generate_key("Ed25519"))


@pytest.fixture
def resolver() -> DidResolver:
    return DidResolver(None)  # did:key offline; any did:web fetch would fail


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    load = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return load(header), load(payload), signature


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _refused(token: str, resolver: DidResolver, words: str, audience: str = VERIFIER) -> None:
    with pytest.raises(ConnectorError) as caught:
        await verify_id_token(token, resolver, audience, NOW)
    assert caught.value.reason is Reason.UNAUTHORIZED
    assert words in str(caught.value)
    assert len(token) < 8 or token[:40] not in str(caught.value)  # never echo a token


async def test_a_fresh_token_verifies_with_its_claims(caller, resolver):
    token = issue_id_token(caller, VERIFIER, access_token="grant", now=NOW)
    claims = await verify_id_token(token, resolver, VERIFIER, NOW + timedelta(seconds=30))
    assert claims.issuer == caller.did and claims.access_token == "grant"
    assert claims.expires_at == NOW + timedelta(minutes=5)
    other = issue_id_token(caller, VERIFIER, access_token="grant", now=NOW)
    assert (await verify_id_token(other, resolver, VERIFIER, NOW)).jti != claims.jti


async def test_forged_signature_is_refused(caller, resolver):
    token = issue_id_token(caller, VERIFIER, access_token="grant", now=NOW)
    header, payload, signature = token.split(".")
    claims = _parts(token)[1] | {"token": "another grant"}
    await _refused(f"{header}.{_b64(claims)}.{signature}", resolver, "signature does not match")


async def test_a_token_signed_by_another_key_than_its_issuer_is_refused(caller, resolver):
    impostor = Signer.for_did_key(generate_key("Ed25519"))
    forged = Signer(impostor.key, caller.verification_method)  # claims the caller's key id
    token = issue_id_token(forged, VERIFIER, access_token="grant", now=NOW)
    await _refused(token, resolver, "signature does not match")


async def test_expired_and_future_tokens_are_refused(caller, resolver):
    old = issue_id_token(caller, VERIFIER, access_token="g", now=NOW - timedelta(minutes=6))
    await _refused(old, resolver, "expired")
    future = issue_id_token(caller, VERIFIER, access_token="g", now=NOW + timedelta(minutes=2))
    await _refused(future, resolver, "not valid yet")
    later = sign_jwt({"typ": "JWT"}, {**_parts(old)[1], "iat": int(NOW.timestamp()),
                                      "exp": int(NOW.timestamp()) + 60,
                                      "nbf": int(NOW.timestamp()) + 600}, caller)
    await _refused(later, resolver, "not valid yet")
    long = issue_id_token(caller, VERIFIER, access_token="g", now=NOW, ttl=timedelta(hours=1))
    await _refused(long, resolver, "lives longer")


async def test_wrong_audience_is_refused(caller, resolver):
    token = issue_id_token(caller, "did:web:someone.else", access_token="g", now=NOW)
    await _refused(token, resolver, "another audience")


async def test_iss_and_sub_must_be_equal(caller, resolver):
    token = issue_id_token(caller, VERIFIER, access_token="g", now=NOW,
                           extra={"sub": "did:web:victim.example"})
    await _refused(token, resolver, "iss and sub differ")


async def test_alg_none_and_unknown_types_are_refused(caller, resolver):
    token = issue_id_token(caller, VERIFIER, access_token="g", now=NOW)
    header, payload, _ = _parts(token)
    await _refused(f"{_b64(header | {'alg': 'none'})}.{_b64(payload)}.", resolver, "algorithm")
    await _refused(f"{_b64(header | {'alg': 'HS256'})}.{_b64(payload)}.c2ln", resolver, "algorithm")
    typed = sign_jwt({"typ": "vp+jwt"}, payload, caller)
    await _refused(typed, resolver, "not a self-issued ID token")
    # an access token (at+jwt) must not pass as an ID token either
    grant = issue_access_token(caller, VERIFIER, [MEMBERSHIP], now=NOW)
    await _refused(grant, resolver, "not a self-issued ID token")
    credential = issue_vc_jwt({"issuer": caller.did, "iss": caller.did, "sub": caller.did,
                               "aud": VERIFIER}, caller)
    await _refused(credential, resolver, "not a self-issued ID token")


async def test_malformed_tokens_are_refused(resolver):
    for junk in ("", "a.b", "a.b.c", "x" * 20_000, "e30.e30.", "W10.W10.AA"):
        await _refused(junk, resolver, "")


async def test_hostile_json_inside_a_token_is_refused_before_any_check(caller, resolver):
    header = _b64({"typ": "JWT", "alg": "EdDSA"})
    raw = lambda text: base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()  # noqa: E731
    nested = raw('{"a":' * 1500 + "1" + "}" * 1500)  # within the size cap, beyond the stack
    await _refused(f"{header}.{nested}.AA", resolver, "not a well-formed JWT")
    await _refused(f"{raw('[' * 5000 + ']' * 5000)}.{_b64({})}.AA", resolver, "not a well-formed JWT")
    surrogate = raw('{"iss": "did:key:\\ud800", "sub": "did:key:\\ud800"}')
    await _refused(f"{header}.{surrogate}.AA", resolver, "not a well-formed JWT")
    not_a_number = raw('{"exp": NaN}')
    await _refused(f"{header}.{not_a_number}.AA", resolver, "not a well-formed JWT")


async def test_an_id_token_needs_an_access_token(caller, resolver):
    token = issue_id_token(caller, VERIFIER, access_token=None, now=NOW)
    await _refused(token, resolver, "no access token")
    claims = await verify_id_token(token, resolver, VERIFIER, NOW, require_access_token=False)
    assert claims.access_token is None


async def test_the_key_must_be_an_authentication_method_of_the_issuer(tmp_path):
    store = KeyStore.create(tmp_path / "keys")
    did = "did:web:assert-only.example"
    document = did_web_document(did, store, [])
    document["authentication"] = [f"{did}#key-p256"]  # Ed25519 may only assert
    resolver = DidResolver(None)
    resolver.pin(document)
    token = issue_id_token(Signer.for_store(store, did), VERIFIER, access_token="g", now=NOW)
    await _refused(token, resolver, "not an authentication or capabilityInvocation method")
    good = issue_id_token(Signer.for_store(store, did, "P-256"), VERIFIER, access_token="g", now=NOW)
    assert (await verify_id_token(good, resolver, VERIFIER, NOW)).issuer == did
    elsewhere = Signer(store.ed25519, "did:web:other.example#key-ed25519")
    token = issue_id_token(elsewhere, VERIFIER, access_token="g", now=NOW, extra={"iss": did, "sub": did})
    await _refused(token, resolver, "kid does not name")


async def test_access_tokens_are_bound_to_holder_verifier_and_time(caller, resolver):
    grant = issue_access_token(caller, VERIFIER, [MEMBERSHIP], now=NOW)
    assert await verify_access_token(grant, resolver, caller.did, VERIFIER, NOW) == parse_scopes([MEMBERSHIP])
    with pytest.raises(ConnectorError, match="another party"):
        await verify_access_token(grant, resolver, caller.did, "did:web:thief.example", NOW)
    with pytest.raises(ConnectorError, match="not issued by this"):
        await verify_access_token(grant, resolver, "did:web:me.example", VERIFIER, NOW)
    with pytest.raises(ConnectorError, match="expired"):
        await verify_access_token(grant, resolver, caller.did, VERIFIER, NOW + timedelta(minutes=6))
    id_token = issue_id_token(caller, VERIFIER, access_token="g", now=NOW)
    with pytest.raises(ConnectorError, match="not an at\\+jwt"):
        await verify_access_token(id_token, resolver, caller.did, VERIFIER, NOW)


async def test_requests_to_one_audience_share_a_grant_for_a_while_but_never_an_id_token(caller, resolver):
    from connector.auth import client

    def grant_and_jti(header: str) -> tuple[str, str]:
        payload = _parts(header)[1]
        return payload["token"], payload["jti"]

    first, second = (grant_and_jti(client.authorization(caller, VERIFIER, now=NOW)) for _ in range(2))
    assert first[0] == second[0] and first[1] != second[1]
    other = grant_and_jti(client.authorization(caller, "did:web:other.example", now=NOW))[0]
    later = grant_and_jti(client.authorization(caller, VERIFIER, now=NOW + client.GRANT_REUSE))[0]
    assert len({first[0], other, later}) == 3
    another_key = Signer(generate_key("Ed25519"), caller.verification_method)
    assert grant_and_jti(client.authorization(another_key, VERIFIER, now=NOW))[0] != first[0]
    scopes = await verify_access_token(first[0], resolver, caller.did, VERIFIER, NOW + timedelta(minutes=4))
    assert scopes  # the shared grant is still valid when its reuse ends
