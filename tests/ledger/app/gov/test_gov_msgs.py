"""Governance messages: wire forms, stateless refusals with their sentences, and round trips."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.app import bank, msgs, tx
from ledger.app.errors import INVALID_REQUEST, UNAUTHORIZED, UNKNOWN_REQUEST, AppError
from ledger.app.gov import content, store
from ledger.app.gov.msgs import MsgSubmitProposal
from ledger.app.registry.msgs import MsgRegisterMember
from ledger.encoding import encode
from tests.ledger.app.gov.govhelpers import CHAIN, COM, GOV, PARAMS, Chain, key, text

ALICE = key("alice")
REGISTER = {"type": "registry/register_member", "authority": GOV, "did": "did:web:a.example",
            "endpoint": "https://a.example", "sd_hash": b"\x02" * 32, "account": ALICE.address}


def submit(**over: Any) -> dict[str, Any]:
    d = {"type": "gov/submit_proposal", "proposer": ALICE.address, "messages": [REGISTER],
         "initial_deposit": 0, "title": "t", "summary": "s", "metadata": ""}
    d.update(over)
    return d


def refused(d: Any) -> AppError:
    with pytest.raises(AppError) as e:
        msgs.parse(d)
    return e.value


@pytest.mark.parametrize("inner, code, sentence", [
    ({**REGISTER, "authority": ALICE.address}, UNAUTHORIZED,
     "message 1 of the proposal must have the gov module account as its authority"),
    ({"type": "bank/send", "from": GOV, "to": ALICE.address, "amount": 5}, UNAUTHORIZED,
     "message 1 of the proposal would spend the deposits held by the gov module account"),
    ({"type": "gov/vote", "proposal_id": 1, "voter": GOV, "option": "yes"}, INVALID_REQUEST,
     "message 1 of the proposal is a gov/vote, which a proposal cannot carry"),
    ({"type": "x/unknown"}, UNKNOWN_REQUEST, "unknown message type 'x/unknown'"),
    ({**REGISTER, "did": "did:web:A"}, INVALID_REQUEST,
     "'did:web:A' is not a did:web DID (did:web:host, in lower case, with an optional "
     "%3Aport and :path)"),
])
def test_a_proposal_carries_only_governance_messages(inner: dict[str, Any], code: int,
                                                     sentence: str) -> None:
    e = refused(submit(messages=[REGISTER, inner][1:]))
    assert (e.code, str(e)) == (code, sentence)


@pytest.mark.parametrize("d, sentence", [
    (submit(messages=[REGISTER] * 17), "a proposal carries at most 16 messages"),
    (submit(messages={}), "messages must be a list"),
    (submit(title=" "), "the title cannot be empty"),
    (submit(summary=""), "the summary cannot be empty"),
    (submit(metadata="m" * 256), "the metadata is longer than 255 characters"),
    (submit(initial_deposit=-1), "initial_deposit must be a non-negative integer"),
    ({k: v for k, v in submit().items() if k != "metadata"},
     "a gov/submit_proposal message has exactly the fields initial_deposit, messages, "
     "metadata, proposer, summary, title, type"),
    ({"type": "gov/deposit", "proposal_id": 0, "depositor": ALICE.address, "amount": 5},
     "proposal_id must be a positive integer"),
    ({"type": "gov/deposit", "proposal_id": 1, "depositor": ALICE.address, "amount": 0},
     "the deposit must be a positive integer"),
    ({"type": "gov/deposit", "proposal_id": 1, "depositor": b"short", "amount": 1},
     "depositor must be a 20-byte address"),
    ({"type": "gov/vote", "proposal_id": 1, "voter": ALICE.address, "option": "maybe"},
     "a vote option is one of yes, abstain, no, no_with_veto"),
    ({"type": "gov/vote_weighted", "proposal_id": 1, "voter": ALICE.address,
      "options": [{"option": "yes", "weight": 500_000}, {"option": "no", "weight": 400_000}]},
     "the weights of a vote must sum to 1000000 ppm, not 900000"),
    ({"type": "gov/vote_weighted", "proposal_id": 1, "voter": ALICE.address,
      "options": [{"option": "yes", "weight": 500_000}, {"option": "yes", "weight": 500_000}]},
     "a weighted vote names each option at most once"),
    ({"type": "gov/vote_weighted", "proposal_id": 1, "voter": ALICE.address,
      "options": [{"option": "yes", "weight": 1_000_000}, {"option": "no", "weight": 0}]},
     "a weight must be a positive integer"),
    ({"type": "gov/vote_weighted", "proposal_id": 1, "voter": ALICE.address, "options": []},
     "a weighted vote has 1 to 4 options"),
    ({"type": "gov/software_upgrade", "authority": GOV, "name": "", "height": 5, "info": ""},
     "the upgrade name cannot be empty"),
    ({"type": "gov/software_upgrade", "authority": GOV, "name": "v2", "height": 0, "info": ""},
     "the upgrade height must be a positive integer"),
    ({"type": "gov/update_params", "authority": GOV, "module": "gov", "changes": {}},
     "changes must be a non-empty object of parameter values"),
    ({"type": "gov/community_pool_spend", "authority": GOV, "recipient": ALICE.address,
      "amount": 0}, "the amount must be a positive integer"),
])
def test_malformed_messages_are_refused_with_a_sentence(d: dict[str, Any], sentence: str) -> None:
    assert str(refused(d)) == sentence


def test_every_message_round_trips_through_its_wire_form() -> None:
    wires = [
        submit(initial_deposit=7),
        submit(messages=[]),
        {"type": "gov/deposit", "proposal_id": 3, "depositor": ALICE.address, "amount": 9},
        {"type": "gov/vote", "proposal_id": 3, "voter": ALICE.address, "option": "no_with_veto"},
        {"type": "gov/vote_weighted", "proposal_id": 3, "voter": ALICE.address,
         "options": [{"option": "abstain", "weight": 1}, {"option": "no", "weight": 999_999}]},
        {"type": "gov/community_pool_spend", "authority": GOV, "recipient": ALICE.address,
         "amount": 4},
        {"type": "gov/software_upgrade", "authority": GOV, "name": "v2", "height": 90,
         "info": "https://example.org/v2"},
        {"type": "gov/cancel_upgrade", "authority": GOV},
        {"type": "gov/update_params", "authority": GOV, "module": "gov",
         "changes": {"voting_period": 30}},
    ]
    for d in wires:
        m = msgs.parse(d)
        assert m.to_obj() == d and msgs.parse(m.to_obj()) == m
        assert m.gas(PARAMS) > 0
    assert msgs.parse(wires[0]).spend() == 7 and msgs.parse(wires[2]).spend() == 9
    assert msgs.parse(wires[5]).signer == GOV  # governance-only: nobody can sign it


def test_a_signed_transaction_cannot_carry_a_governance_only_message() -> None:
    c = Chain({ALICE.address: 10 * COM})
    own = MsgRegisterMember(ALICE.address, "did:web:a.example", "https://a.example",
                            b"\x02" * 32, ALICE.address)
    with pytest.raises(AppError) as e:
        c.deliver(ALICE, own)
    assert e.value.code == UNAUTHORIZED
    assert str(e.value) == (f"registry/register_member is made by governance only: its "
                            f"authority must be the gov module account {text(GOV)}, not "
                            f"{text(ALICE)}")
    # Naming the gov account as authority makes the gov account the signer: no one can sign.
    body = {"chain_id": CHAIN, "msgs": [{**own.to_obj(), "authority": GOV}], "fee": 10_000,
            "sequence": 1, "pub_key": ALICE.pub_key, "memo": ""}
    raw = encode({"body": body, "sig": ALICE.sign(tx.SIGN_DOMAIN + encode(body))})
    with pytest.raises(AppError) as e:
        tx.decode_tx(raw, PARAMS)
    assert str(e.value) == f"message 1 is from {text(GOV)}, not from the signer {text(ALICE)}"


def test_a_text_proposal_has_no_messages_and_passes_without_running_anything() -> None:
    c = Chain({ALICE.address: 20 * COM}, {"voting_period": 10})
    c.source.delegate(ALICE.address, ALICE.address, 5 * COM)
    c.deliver(ALICE, MsgSubmitProposal(ALICE.address, (), 10 * COM, "Adopt the charter",
                                       "See metadata", "ipfs://charter"))
    c.deliver(ALICE, msgs.parse({"type": "gov/vote", "proposal_id": 1, "voter": ALICE.address,
                                 "option": "yes"}))
    c.end_block(10)
    p = store.must_get(c.state, 1)
    assert (p.status, p.messages, p.metadata) == ("passed", [], "ipfs://charter")
    assert content.pending_upgrade(c.state) is None and c.problems() == []
    assert bank.balance(c.state, GOV) == 0


def test_submit_events_name_the_proposal_and_its_messages() -> None:
    c = Chain({ALICE.address: 20 * COM})
    m = msgs.parse(submit(initial_deposit=10 * COM))
    events = c.deliver(ALICE, m)
    sub = [e for e in events if e.type == "submit_proposal"][0]
    assert {a.key: a.value for a in sub.attributes} == {
        "proposal_id": "1", "proposal_messages": "registry/register_member",
        "proposer": text(ALICE)}
    dep = [{a.key: a.value for a in e.attributes} for e in events if e.type == "proposal_deposit"]
    assert dep == [{"amount": "10000000ucom", "proposal_id": "1", "depositor": text(ALICE)},
                   {"voting_period_start": "1"}]
