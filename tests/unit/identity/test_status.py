"""Credential status: status lists read, fetched from a real server, cached; the issuer's list."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import timedelta

import pytest
from aiohttp import web

from connector.credentials.status import LIST_SIZE, StatusRegistry
from connector.identity.did import Signer
from connector.identity.jose import issue_vc_jwt
from connector.identity.keys import generate_key
from connector.identity.service import issue_credential
from connector.identity.status import StatusError, bit, decode_list, encode_list, entries
from connector.identity.statuslists import StatusLists
from connector.identity.verification import utcnow


def test_bit_zero_is_the_leftmost_bit_and_both_encodings_read():
    bits = bytes([0b1000_0001]) + bytes(2047)
    for multibase in (True, False):
        decoded = decode_list(encode_list(bits, multibase=multibase))
        assert decoded == bits and bit(decoded, 0) and bit(decoded, 7) and not bit(decoded, 1)
    padded = base64.b64encode(gzip.compress(bits)).decode()  # plain base64 with padding
    assert decode_list(padded) == bits
    with pytest.raises(StatusError, match="beyond the status list"):
        bit(bits, 2048 * 8)


def test_a_gzip_bomb_and_garbage_are_refused():
    bomb = encode_list(bytes(17 * 1024 * 1024))
    with pytest.raises(StatusError, match="larger than"):
        decode_list(bomb)
    for garbage in ("", "u!!!", "uAAAA", 5):
        with pytest.raises(StatusError):
            decode_list(garbage)


@pytest.mark.parametrize("status, words", [
    ({"type": "RevocationList2020Status", "statusPurpose": "revocation"}, "is not supported"),
    ({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "-1",
      "statusListCredential": "https://x"}, "non-negative"),
    ({"type": "StatusList2021Entry", "statusPurpose": "suspension", "statusListIndex": "3"}, "not a URL"),
    ({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "3",
      "statusListCredential": "https://x", "statusSize": 2}, "2 bits"),
])
def test_malformed_entries_are_refused(status, words):
    with pytest.raises(StatusError, match=words):
        entries({"credentialStatus": status})


def test_other_purposes_are_not_about_validity():
    assert entries({"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "message",
                                         "statusListIndex": "1", "statusListCredential": "https://x"}}) == []


@pytest.fixture
def registry(tmp_path, did_server) -> StatusRegistry:
    return StatusRegistry(tmp_path, did_server.base_url)


def serve_list(did_server, registry: StatusRegistry, signer: Signer, scheme: str) -> None:
    async def handler(_: web.Request) -> web.Response:
        return web.Response(text=registry.list_credential(scheme, signer), content_type="application/vc+jwt")

    did_server.routes[f"/credentials/status/{scheme}"] = handler


@pytest.mark.parametrize("fmt, scheme", [("jwt", "bitstring"), ("jwt11", "sl2021")])
async def test_a_revoked_credential_is_refused_once_the_cache_lets_go(resolver, did_server, web_node,
                                                                      registry, fmt, scheme):
    issuer = web_node[0]
    serve_list(did_server, registry, issuer, scheme)
    lists = StatusLists(resolver)
    first, second = (issue_credential(issuer, "did:example:m", ["MembershipCredential"], {}, fmt,
                                      status=registry.entry(registry.allocate(), fmt)) for _ in range(2))
    docs = [(await resolver_verify(resolver, token)) for token in (first, second)]
    assert [await lists.problems(d) for d in docs] == [[], []]
    assert registry.revoke(1) and not registry.revoke(1)
    assert await lists.problems(docs[1]) == []  # cached for a short time
    lists.forget()
    assert [await lists.problems(d) for d in docs] == [[], [
        f"the credential was revoked by its issuer (status list {registry.url(scheme)}, entry 1)"]]


async def resolver_verify(resolver, token: str) -> dict:
    from connector.identity.jose import verify_jwt

    result = await verify_jwt(token, resolver)
    assert result.ok, result.problems
    return result.document


async def test_a_list_by_anyone_else_says_nothing(resolver, did_server, web_node, registry):
    impostor = Signer.for_did_key(generate_key("Ed25519"))
    serve_list(did_server, registry, impostor, "bitstring")
    credential = {"issuer": web_node[0].did, "credentialStatus": registry.entry(registry.allocate(), "jwt")}
    problems = await StatusLists(resolver).problems(credential)
    assert problems == [f"the status list at {registry.url('bitstring')} is issued by {impostor.did}, "
                        f"not by the credential's issuer {web_node[0].did}"]


@pytest.mark.parametrize("case", ["missing", "tampered", "expired", "wrong-purpose", "huge", "private"])
async def test_an_unusable_list_refuses_the_credential(resolver, did_server, web_node, registry, case):
    issuer = web_node[0]
    url = registry.url("bitstring")
    credential = {"issuer": issuer.did, "credentialStatus": registry.entry(registry.allocate(), "jwt")}
    now = utcnow()
    subject = {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
               "encodedList": encode_list(bytes(LIST_SIZE // 8))}
    body = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": issuer.did,
            "validFrom": "2024-01-01T00:00:00Z", "credentialSubject": subject}
    text = issue_vc_jwt(body, issuer)
    if case == "tampered":
        head, _, sig = text.split(".")
        text = f"{head}.{issue_vc_jwt({**body, 'id': url + 'x'}, issuer).split('.')[1]}.{sig}"
    elif case == "expired":
        text = issue_vc_jwt({**body, "validUntil": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}, issuer)
    elif case == "wrong-purpose":
        text = issue_vc_jwt({**body, "credentialSubject": {**subject, "statusPurpose": "suspension"}}, issuer)
    elif case == "huge":
        text = "x" * (3 * 1024 * 1024)
    elif case == "private":
        credential["credentialStatus"]["statusListCredential"] = "http://10.0.0.1/list"
    if case != "missing":
        did_server.routes["/credentials/status/bitstring"] = lambda _: _answer(text)
    words = {"missing": "could not be fetched", "tampered": "does not verify", "expired": "does not verify",
             "wrong-purpose": "not a revocation list", "huge": "could not be fetched",
             "private": "not at an address this node may reach"}[case]
    problems = await StatusLists(resolver, timeout=2).problems(credential)
    assert len(problems) == 1 and words in problems[0], problems


async def _answer(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/vc+jwt")


def test_the_registry_hands_out_each_entry_once(tmp_path):
    registry = StatusRegistry(tmp_path, "https://issuer.example")
    assert [registry.allocate() for _ in range(3)] == [0, 1, 2]
    assert StatusRegistry(tmp_path, "https://issuer.example").allocate() == 3  # persisted
    with pytest.raises(Exception, match="never issued"):
        registry.revoke(10)
    registry.revoke(2)
    assert bit(registry.bits(), 2) and not bit(registry.bits(), 1)


async def test_credential_verify_and_hold_check_the_status(resolver, did_server, web_node, registry):
    from connector.credentials import service as credentials
    from connector.credentials.store import InMemoryCredentialStore

    issuer = web_node[0]
    serve_list(did_server, registry, issuer, "bitstring")
    token = issue_credential(issuer, "did:example:m", ["MembershipCredential"], {}, "jwt",
                             status=registry.entry(registry.allocate(), "jwt"))
    assert (await credentials.verify(token, resolver)).ok
    registry.revoke(0)
    result = await credentials.verify(token, resolver)
    assert result.problems == (f"the credential was revoked by its issuer (status list {registry.url('bitstring')}, entry 0)",)
    with pytest.raises(Exception, match="revoked by its issuer"):
        await credentials.hold(InMemoryCredentialStore(), resolver, "did:example:m", token)


async def test_an_ld_credential_with_a_status_list_2021_entry(resolver, did_server, web_node, registry):
    """What JSON-LD wallets issue: a VC 1.1 credential with the StatusList2021 context and an
    Ed25519Signature2018 proof (the entry is covered by the signature)."""
    from connector.credentials import service as credentials
    from connector.identity.ldp import issue_ldp

    issuer = web_node[0]
    serve_list(did_server, registry, issuer, "sl2021")
    unsigned = {"@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/vc/status-list/2021/v1"],
                "type": ["VerifiableCredential"], "issuer": issuer.did, "issuanceDate": "2024-01-01T00:00:00Z",
                "credentialSubject": {"id": "did:example:m"},
                "credentialStatus": registry.entry(registry.allocate(), "jwt11")}
    signed = issue_ldp(unsigned, issuer, suite="Ed25519Signature2018")
    assert (await credentials.verify(json.dumps(signed), resolver)).ok
    registry.revoke(0)
    assert "revoked by its issuer" in (await credentials.verify(json.dumps(signed), resolver)).problems[0]
    signed["credentialStatus"]["statusListIndex"] = "1"  # the entry is signed
    assert "does not match" in (await credentials.verify(json.dumps(signed), resolver)).problems[0]
