"""Listings and anchors: each success and each refusal, with the sentence a user reads."""

from __future__ import annotations

import pytest

from ledger.app import bank, msgs
from ledger.app.errors import INVALID_REQUEST, NOT_FOUND, TX_DECODE, UNAUTHORIZED
from ledger.app.market import client as mc
from ledger.app.market import model, queries
from ledger.app.registry.msgs import MsgSetMemberStatus
from tests.ledger.app.gov.govhelpers import COM, GOV, attrs, text
from tests.ledger.app.market.mkthelpers import (
    ACME,
    ACME_DID,
    BETA,
    BETA_DID,
    CAROL,
    H1,
    H2,
    MARKET,
    chain,
    refused,
)

CONSUMER = "did:web:consumer.example"


def test_a_listing_stakes_and_defaults_its_contributors_to_the_provider() -> None:
    c = chain()
    events = c.deliver(ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 250, stake=3 * COM))
    assert attrs(events, "market_listing") == [{
        "action": "list", "dataset_id": "ds", "provider": text(ACME),
        "provider_did": ACME_DID, "price": "250ucom", "status": "listed",
        "stake": "3000000ucom"}]
    assert bank.balance(c.state, MARKET) == 3 * COM
    _, doc = queries.listing(c.state, "ds")
    assert doc == {"dataset_id": "ds", "provider": text(ACME), "provider_did": ACME_DID,
                   "content_hash": H1.hex(), "price": 250, "status": "listed",
                   "contributors": [{"account": text(ACME), "share": 1}],
                   "since": {"height": 1, "time": c.ctx.time}, "provider_stake": 3 * COM,
                   "curator_stake": 0, "curators": 0, "unbonding": 0}
    assert c.problems() == []


def test_listing_refusals() -> None:
    c = chain()
    e = refused(c.deliver, CAROL, mc.list_msg(CAROL, "ds", ACME_DID, H1, 1))
    assert (e.code, str(e)) == (UNAUTHORIZED, f"{text(CAROL)} is not the registry account "
                                              f"of {ACME_DID}")
    e = refused(c.deliver, ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 1,
                                             [(ACME.address, 1)] * 2))
    assert (e.code, str(e)) == (INVALID_REQUEST, "a contributor appears twice in contributors")
    e = refused(c.deliver, ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 1,
                                             [(k.to_bytes(20, "big"), 1) for k in range(1, 18)]))
    assert str(e) == "a listing has at most 16 contributors"
    e = refused(c.deliver, ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 1, [(GOV, 1)]))
    assert e.code == UNAUTHORIZED and "is a module account (gov)" in str(e)
    e = refused(c.deliver, ACME, mc.list_msg(ACME, "", ACME_DID, H1, 1))
    assert str(e) == "the dataset id cannot be empty"
    e = refused(c.deliver, ACME, mc.list_msg(ACME, "ds", ACME_DID, b"\x01", 1))
    assert str(e) == "the content hash must be 32 bytes (SHA-256)"
    c.deliver(ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 1))
    e = refused(c.deliver, BETA, mc.list_msg(BETA, "ds", BETA_DID, H1, 1))
    assert str(e) == f"dataset 'ds' is already listed by {ACME_DID} (listed)"
    c.run(MsgSetMemberStatus(GOV, BETA_DID, "suspended"))
    e = refused(c.deliver, BETA, mc.list_msg(BETA, "ds2", BETA_DID, H1, 1))
    assert str(e) == f"{BETA_DID} is suspended, not a member in good standing"
    assert c.problems() == []


def test_the_minimum_provider_stake_is_a_parameter() -> None:
    c = chain()
    from ledger.app.gov.content import MsgUpdateParams
    c.run(MsgUpdateParams(GOV, "market", {"min_provider_stake": 5}))
    e = refused(c.deliver, ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 1, stake=4))
    assert str(e) == "a listing's stake is at least 5 ucom, this one is 4 ucom"
    e = refused(c.run, MsgUpdateParams(GOV, "market", {"burn_bps": 1}))
    assert str(e) == ("market parameters burn_bps, community_bps and validators_bps must sum "
                      "to 10000")


def test_update_and_delist_belong_to_the_provider_and_relisting_is_its_own() -> None:
    c = chain()
    c.deliver(ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 10, stake=100))
    e = refused(c.deliver, BETA, mc.update_listing_msg(BETA, "ds", 20, H2))
    assert (e.code, str(e)) == (UNAUTHORIZED, f"only the provider of 'ds' ({ACME_DID}) can "
                                              f"change its listing")
    c.deliver(ACME, mc.update_listing_msg(ACME, "ds", 20, H2, [(BETA.address, 2)]))
    lst = model.must_listing(c.state, "ds")
    assert (lst.price, lst.content_hash, lst.contributors) == (20, H2, ((BETA.address, 2),))
    c.deliver(CAROL, mc.stake_msg(CAROL, "ds", 40))
    events = c.deliver(ACME, mc.delist_msg(ACME, "ds"))
    assert attrs(events, "market_listing")[0]["status"] == "delisted"
    _, st = queries.stakes(c.state, "ds")
    assert st["provider"] == {"account": text(ACME), "bonded": 0,
                              "unbonding": [{"amount": 100, "release_height": 21}]}
    assert st["curators"] == [{"account": text(CAROL), "bonded": 0,
                               "unbonding": [{"amount": 40, "release_height": 21}]}]
    e = refused(c.deliver, ACME, mc.delist_msg(ACME, "ds"))
    assert str(e) == "dataset 'ds' is delisted"
    e = refused(c.deliver, BETA, mc.list_msg(BETA, "ds", BETA_DID, H1, 1))
    assert str(e) == f"dataset 'ds' is already listed by {ACME_DID} (delisted)"
    c.deliver(ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 7, stake=5))  # listed again
    assert queries.listing(c.state, "ds")[1]["provider_stake"] == 5
    assert queries.listing(c.state, "ds")[1]["unbonding"] == 140
    assert c.problems() == []


def test_an_agreement_and_a_receipt_are_anchored_once() -> None:
    c = chain()
    agreement = mc.agreement_anchor_msg(ACME, "agr-1", H1, "ds", ACME_DID, CONSUMER, H2)
    events = c.deliver(ACME, agreement)
    assert attrs(events, "market_anchor") == [{
        "kind": "agreement", "id": "agr-1", "digest": H1.hex(), "agreement_id": "agr-1",
        "dataset_id": "ds", "provider_did": ACME_DID, "consumer_did": CONSUMER, "height": "1"}]
    c.end_block(5)
    c.deliver(ACME, mc.receipt_anchor_msg(ACME, "run-9", H2, "agr-1", "ds", ACME_DID, CONSUMER))
    _, doc = queries.anchor(c.state, "receipt/run-9")
    assert doc == {"kind": "receipt", "id": "run-9", "digest": H2.hex(), "agreement_id": "agr-1",
                   "dataset_id": "ds", "provider_did": ACME_DID, "consumer_did": CONSUMER,
                   "policy_hash": "00" * 32, "signer": text(ACME), "height": 2,
                   "time": c.ctx.time}
    e = refused(c.deliver, ACME, agreement)
    assert (e.code, str(e)) == (INVALID_REQUEST, "agreement 'agr-1' is already anchored at "
                                                 "height 1")
    e = refused(c.deliver, BETA, mc.agreement_anchor_msg(BETA, "agr-2", H1, "ds", ACME_DID,
                                                         CONSUMER, H2))
    assert e.code == UNAUTHORIZED
    e = refused(queries.anchor, c.state, "agreement/agr-2")
    assert (e.code, str(e)) == (NOT_FOUND, "no agreement 'agr-2' is anchored")
    assert c.problems() == []


@pytest.mark.parametrize("change, sentence", [
    ({"kind": "offer"}, "an anchor's kind is agreement or receipt"),
    ({"agreement_id": "other"}, "an agreement's anchor names itself as agreement_id"),
    ({"policy_hash": bytes(32)}, "an agreement's anchor needs its policy hash"),
    ({"digest": b"x"}, "the digest must be 32 bytes (SHA-256)"),
    ({"consumer_did": "nobody"}, "'nobody' is not a DID (did:method:identifier)"),
])
def test_anchor_messages_are_checked_when_parsed(change: dict[str, object],
                                                 sentence: str) -> None:
    d = mc.agreement_anchor_msg(ACME, "agr-1", H1, "ds", ACME_DID, CONSUMER, H2).to_obj()
    e = refused(msgs.parse, {**d, **change})
    assert str(e) == sentence


def test_wire_forms_round_trip() -> None:
    for m in (mc.list_msg(ACME, "ds", ACME_DID, H1, 3, [(BETA.address, 2)], 9),
              mc.update_listing_msg(ACME, "ds", 4, H2), mc.delist_msg(ACME, "ds"),
              mc.stake_msg(CAROL, "ds", 1), mc.unstake_msg(CAROL, "ds", 1),
              mc.pay_msg(CAROL, "ds", "a", 0),
              mc.agreement_anchor_msg(ACME, "a", H1, "ds", ACME_DID, CONSUMER, H2),
              mc.slash_msg("ds", 500, "false data")):
        assert msgs.parse(m.to_obj()) == m
    e = refused(msgs.parse, {**mc.delist_msg(ACME, "ds").to_obj(), "extra": 1})
    assert e.code == TX_DECODE
