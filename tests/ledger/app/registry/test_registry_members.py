"""Registry messages: each success and each refusal, with the sentence a user reads."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.app import msgs
from ledger.app.errors import INVALID_REQUEST, NOT_FOUND, UNAUTHORIZED, AppError
from ledger.app.registry import model
from ledger.app.registry.msgs import (
    MsgAddTrustAnchor,
    MsgApply,
    MsgRegisterMember,
    MsgRemoveTrustAnchor,
    MsgSetMemberStatus,
    MsgUpdateMember,
)
from tests.ledger.app.gov.govhelpers import COM, GOV, Chain, attrs, key, text

ACME, BETA, MALLORY = key("acme"), key("beta"), key("mallory")
DID, DID2 = "did:web:acme.example", "did:web:beta.example%3A8443:org"
H1, H2 = b"\x01" * 32, b"\x02" * 32


def chain() -> Chain:
    return Chain({k.address: 10 * COM for k in (ACME, BETA, MALLORY)})


def refused(fn: Any, *args: Any) -> AppError:
    with pytest.raises(AppError) as e:
        fn(*args)
    return e.value


def test_an_applicant_is_proposed_then_admitted_by_governance() -> None:
    c = chain()
    events = c.deliver(ACME, MsgApply(ACME.address, DID, "https://acme.example/dsp", H1))
    assert attrs(events, "registry_member") == [
        {"action": "apply", "did": DID, "status": "proposed", "account": text(ACME)}]
    m = model.member(c.state, DID)
    assert m is not None and (m.status, m.since_height, m.since_time) == ("proposed", 1, c.ctx.time)
    c.end_block(5)
    c.run(MsgSetMemberStatus(GOV, DID, "member"))
    m = model.member(c.state, DID)
    assert m is not None and (m.status, m.since_height) == ("member", 2)
    assert model.by_account(c.state, ACME.address) == m
    assert c.problems() == []


@pytest.mark.parametrize("did, endpoint, sd_hash, sentence", [
    ("did:web:Acme.example", "https://a.example", H1,
     "'did:web:Acme.example' is not a did:web DID (did:web:host, in lower case, with an "
     "optional %3Aport and :path)"),
    ("did:key:z6Mk", "https://a.example", H1,
     "'did:key:z6Mk' is not a did:web DID (did:web:host, in lower case, with an optional "
     "%3Aport and :path)"),
    (DID, "http://acme.example", H1,
     "the endpoint must be an https URL (http only for 127.0.0.1 or localhost)"),
    (DID, "ftp://acme.example", H1,
     "the endpoint must be an https URL (http only for 127.0.0.1 or localhost)"),
    (DID, "https://acme.example/#frag", H1,
     "the endpoint must be an https URL (http only for 127.0.0.1 or localhost)"),
    (DID, "https://acme.example:70000", H1,
     "the endpoint must be an https URL (http only for 127.0.0.1 or localhost)"),
    (DID, "https://acme.example", b"\x01" * 31,
     "the self-description hash must be 32 bytes (SHA-256)"),
])
def test_bad_fields_are_refused(did: str, endpoint: str, sd_hash: bytes, sentence: str) -> None:
    e = refused(msgs.parse, {"type": "registry/apply", "account": ACME.address, "did": did,
                             "endpoint": endpoint, "sd_hash": sd_hash})
    assert (e.code, str(e)) == (INVALID_REQUEST, sentence)


def test_local_endpoints_may_use_http() -> None:
    for url in ("http://127.0.0.1:8080/dsp", "http://localhost:9000",
                "https://acme.example:8443/a?b=c"):
        assert model.check_endpoint(url) == url


def test_a_did_or_an_account_is_taken_once() -> None:
    c = chain()
    c.deliver(ACME, MsgApply(ACME.address, DID, "https://acme.example", H1))
    e = refused(c.deliver, MALLORY, MsgApply(MALLORY.address, DID, "https://evil.example", H2))
    assert str(e) == f"{DID} is already registered (status proposed)"
    e = refused(c.deliver, ACME, MsgApply(ACME.address, DID2, "https://b.example", H2))
    assert str(e) == f"account {text(ACME)} already belongs to {DID}"


def test_a_member_updates_its_own_endpoint_and_hash_only() -> None:
    c = chain()
    c.run(MsgRegisterMember(GOV, DID, "https://acme.example", H1, ACME.address))
    c.deliver(ACME, MsgUpdateMember(ACME.address, DID, "https://new.acme.example", H2))
    m = model.member(c.state, DID)
    assert m is not None and (m.endpoint, m.sd_hash, m.status) == (
        "https://new.acme.example", H2, "member")
    assert model.by_account(c.state, ACME.address) == m
    e = refused(c.deliver, MALLORY, MsgUpdateMember(MALLORY.address, DID, "https://x.example",
                                                    H1))
    assert (e.code, str(e)) == (UNAUTHORIZED, f"only {DID}'s own account {text(ACME)} can "
                                              f"update it")
    e = refused(c.deliver, MALLORY, MsgUpdateMember(MALLORY.address, DID2, "https://x.example",
                                                    H1))
    assert (e.code, str(e)) == (NOT_FOUND, f"{DID2} is not in the registry")
    c.run(MsgSetMemberStatus(GOV, DID, "removed"))
    e = refused(c.deliver, ACME, MsgUpdateMember(ACME.address, DID, "https://acme.example", H1))
    assert str(e) == f"{DID} was removed and can no longer be updated"
    assert c.problems() == []


def test_governance_registers_admits_and_refuses_a_taken_did() -> None:
    c = chain()
    events = c.run(MsgRegisterMember(GOV, DID, "https://acme.example", H1, ACME.address))
    assert attrs(events, "registry_member")[0]["action"] == "register"
    e = refused(c.run, MsgRegisterMember(GOV, DID, "https://acme.example", H1, BETA.address))
    assert str(e) == f"{DID} is already registered (status member)"
    e = refused(c.run, MsgRegisterMember(GOV, DID2, "https://b.example", H1, ACME.address))
    assert str(e) == f"account {text(ACME)} already belongs to {DID}"
    # A DID squatted by someone else's application: governance admits its real owner.
    c.deliver(MALLORY, MsgApply(MALLORY.address, DID2, "https://evil.example", H2))
    c.run(MsgRegisterMember(GOV, DID2, "https://beta.example", H1, BETA.address))
    m = model.member(c.state, DID2)
    assert m is not None and (m.account, m.endpoint, m.status) == (
        BETA.address, "https://beta.example", "member")
    assert model.by_account(c.state, MALLORY.address) is None
    assert c.problems() == []


def test_registry_changes_not_made_by_governance_are_refused() -> None:
    c = chain()
    for m in (MsgRegisterMember(ACME.address, DID, "https://acme.example", H1, ACME.address),
              MsgSetMemberStatus(ACME.address, DID, "member"),
              MsgAddTrustAnchor(ACME.address, "did:web:issuer.example", ("X",)),
              MsgRemoveTrustAnchor(ACME.address, "did:web:issuer.example")):
        e = refused(c.deliver, ACME, m)
        assert (e.code, str(e)) == (UNAUTHORIZED, f"{m.type} is made by governance only: its "
                                                  f"authority must be the gov module account "
                                                  f"{text(GOV)}, not {text(ACME)}")
    assert list(c.state.items(b"reg/")) == []


def test_status_transitions_and_the_finality_of_removal() -> None:
    c = chain()
    c.deliver(ACME, MsgApply(ACME.address, DID, "https://acme.example", H1))
    e = refused(c.run, MsgSetMemberStatus(GOV, DID, "suspended"))
    assert str(e) == f"{DID} cannot go from proposed to suspended"
    c.run(MsgSetMemberStatus(GOV, DID, "member"))
    e = refused(c.run, MsgSetMemberStatus(GOV, DID, "member"))
    assert str(e) == f"{DID} cannot go from member to member"
    c.run(MsgSetMemberStatus(GOV, DID, "suspended"))
    c.run(MsgSetMemberStatus(GOV, DID, "member"))
    c.run(MsgSetMemberStatus(GOV, DID, "removed"))
    for status in ("member", "suspended", "removed"):
        e = refused(c.run, MsgSetMemberStatus(GOV, DID, status))
        assert (e.code, str(e)) == (INVALID_REQUEST, f"{DID} was removed, which is final")
    e = refused(c.run, MsgSetMemberStatus(GOV, DID2, "member"))
    assert (e.code, str(e)) == (NOT_FOUND, f"{DID2} is not in the registry")
    e = refused(msgs.parse, {"type": "registry/set_member_status", "authority": GOV, "did": DID,
                             "status": "proposed"})
    assert str(e) == "a member's status can be set to member, suspended or removed"


def test_trust_anchors_are_added_extended_and_removed() -> None:
    c = chain()
    issuer = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    events = c.run(MsgAddTrustAnchor(GOV, issuer, ("MembershipCredential",)))
    assert attrs(events, "trust_anchor") == [
        {"action": "add", "did": issuer, "credential_types": "MembershipCredential"}]
    c.run(MsgAddTrustAnchor(GOV, issuer, ("DataProductCredential", "MembershipCredential")))
    assert model.anchor_types(c.state, issuer) == ("DataProductCredential",
                                                    "MembershipCredential")
    c.run(MsgRemoveTrustAnchor(GOV, issuer))
    assert model.anchor_types(c.state, issuer) is None
    e = refused(c.run, MsgRemoveTrustAnchor(GOV, issuer))
    assert (e.code, str(e)) == (NOT_FOUND, f"{issuer} is not a trust anchor")
    for types, sentence in (
            ([], "credential_types is a list of 1 to 32 credential type names"),
            (["A", "A"], "credential_types names each type once"),
            ([" A"], "credential_types is a list of 1 to 32 credential type names")):
        e = refused(msgs.parse, {"type": "registry/add_trust_anchor", "authority": GOV,
                                 "did": issuer, "credential_types": types})
        assert str(e) == sentence
    e = refused(msgs.parse, {"type": "registry/remove_trust_anchor", "authority": GOV,
                             "did": "issuer"})
    assert str(e) == "'issuer' is not a DID (did:method:identifier)"


def test_every_registry_message_round_trips() -> None:
    for m in (MsgApply(ACME.address, DID, "https://acme.example", H1),
              MsgUpdateMember(ACME.address, DID2, "http://localhost:8080", H2),
              MsgRegisterMember(GOV, DID, "https://acme.example", H1, ACME.address),
              MsgSetMemberStatus(GOV, DID, "suspended"),
              MsgAddTrustAnchor(GOV, "did:web:i.example", ("A", "B")),
              MsgRemoveTrustAnchor(GOV, "did:web:i.example")):
        assert msgs.parse(m.to_obj()) == m and m.spend() == 0
