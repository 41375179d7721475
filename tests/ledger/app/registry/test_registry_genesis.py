"""Registry genesis (founding members, trust anchors) and queries with their proving keys."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.app.errors import INVALID_REQUEST, NOT_FOUND, UNKNOWN_REQUEST, AppError
from ledger.app.registry import queries
from ledger.app.registry.msgs import MsgApply
from tests.ledger.app.gov.govhelpers import COM, Chain, key, text

A, B, C = key("org-a"), key("org-b"), key("org-c")
SECTION: dict[str, Any] = {
    "members": [
        {"did": "did:web:a.example", "endpoint": "https://a.example/dsp", "sd_hash": "aa" * 32,
         "account": text(A)},
        {"did": "did:web:localhost%3A8443", "endpoint": "http://localhost:8443",
         "sd_hash": "bb" * 32, "account": text(B)},
    ],
    "trust_anchors": [{"did": "did:web:issuer.example",
                       "credential_types": ["MembershipCredential"]}],
}


def chain() -> Chain:
    c = Chain({C.address: 10 * COM}, registry_section=SECTION)
    c.deliver(C, MsgApply(C.address, "did:web:c.example", "https://c.example", b"\x0c" * 32))
    c.end_block(1)
    return c


def proven(c: Chain, k: bytes) -> None:
    value, proof = c.store.prove(k, c.ctx.height)
    assert value is not None and value == c.state.get(k) and proof


def test_genesis_founds_members_and_anchors_and_queries_prove_them() -> None:
    c = chain()
    k, ans = queries.members(c.state, "member")
    assert k == b"reg/m/" and [m["did"] for m in ans["members"]] == [
        "did:web:a.example", "did:web:localhost%3A8443"]
    k, m = queries.member(c.state, "did:web:a.example")
    assert k == b"reg/m/did:web:a.example"
    proven(c, k)
    assert m == {"did": "did:web:a.example", "endpoint": "https://a.example/dsp",
                 "sd_hash": "aa" * 32, "account": text(A), "status": "member",
                 "since": {"height": 1, "time": 1_000_000}}
    k, by_acct = queries.member_by_account(c.state, B.address)
    assert k == b"reg/a/" + B.address and by_acct["did"] == "did:web:localhost%3A8443"
    proven(c, k)
    assert [m["did"] for m in queries.members(c.state, "proposed")[1]["members"]] == [
        "did:web:c.example"]
    assert len(queries.members(c.state)[1]["members"]) == 3
    k, ans = queries.anchors(c.state)
    assert k == b"reg/t/" and ans == {"trust_anchors": [
        {"did": "did:web:issuer.example", "credential_types": ["MembershipCredential"]}]}
    k, one = queries.anchor(c.state, "did:web:issuer.example")
    proven(c, k)
    assert c.problems() == []


def test_queries_by_path_and_their_refusals() -> None:
    c = chain()
    assert queries.answer(c.state, "/registry/member", b"did:web:c.example")[1][
        "status"] == "proposed"
    assert queries.answer(c.state, "/registry/member_by_account", text(A).encode())[1][
        "did"] == "did:web:a.example"
    assert len(queries.answer(c.state, "/registry/anchors", b"")[1]["trust_anchors"]) == 1
    for path, data, code, sentence in (
            ("/registry/member", b"did:web:z.example", NOT_FOUND,
             "did:web:z.example is not in the registry"),
            ("/registry/member_by_account", text(key("nobody")).encode(), NOT_FOUND,
             f"{text(key('nobody'))} is not a registry member's account"),
            ("/registry/member_by_account", b"nope", 7, "'nope' is not an address (com1... in "
                                                          "bech32)"),
            ("/registry/anchor", b"did:web:z.example", NOT_FOUND,
             "did:web:z.example is not a trust anchor"),
            ("/registry/members", b"gone", INVALID_REQUEST,
             "unknown member status 'gone' (known: proposed, member, suspended, removed)"),
            ("/registry/x", b"", UNKNOWN_REQUEST, None)):
        with pytest.raises(AppError) as e:
            queries.answer(c.state, path, data)
        assert e.value.code == code and (sentence is None or str(e.value) == sentence)
    # C applied, so its account is indexed: it has a record, in status proposed
    assert queries.member_by_account(c.state, C.address)[1]["status"] == "proposed"


def bad(**over: Any) -> dict[str, Any]:
    m = {**SECTION["members"][0], **over}
    return {"members": [m]}


@pytest.mark.parametrize("section, sentence", [
    ({"founders": []}, "registry: section: an object with members and trust_anchors"),
    ({"members": {}}, "registry: section: members and trust_anchors are lists"),
    ({"members": [{"did": "did:web:a.example"}]},
     "registry: members[0]: an object with did, endpoint, sd_hash and account"),
    (bad(sd_hash="zz"), "registry: members[0]: sd_hash must be 64 hex digits"),
    (bad(sd_hash="aa"), "registry: members[0]: the self-description hash must be 32 bytes "
                        "(SHA-256)"),
    (bad(account="com1nope"), "registry: members[0]: 'com1nope' is not an address (com1... "
                              "in bech32)"),
    (bad(endpoint="http://a.example"), "registry: members[0]: the endpoint must be an https "
                                       "URL (http only for 127.0.0.1 or localhost)"),
    ({"members": SECTION["members"][:1] * 2},
     "registry: members[1]: did:web:a.example is already registered (status member)"),
    ({"trust_anchors": [{"did": "x", "credential_types": ["A"]}]},
     "registry: trust_anchors[0]: 'x' is not a DID (did:method:identifier)"),
    ({"trust_anchors": SECTION["trust_anchors"] * 2},
     "registry: trust_anchors[1]: did:web:issuer.example appears twice"),
])
def test_a_bad_genesis_section_is_refused_naming_the_problem(section: Any,
                                                              sentence: str) -> None:
    with pytest.raises(AppError) as e:
        Chain({}, registry_section=section)
    assert (e.value.code, str(e.value)) == (INVALID_REQUEST, sentence)
