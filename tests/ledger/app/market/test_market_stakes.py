"""Curators' stakes, their unbonding and return, and governance's slash through a real passed
proposal (deposit, votes, gov's end of block running the message)."""

from __future__ import annotations

from ledger.app import bank
from ledger.app.errors import INVALID_REQUEST, UNAUTHORIZED
from ledger.app.gov import store
from ledger.app.gov.content import MsgUpdateParams
from ledger.app.gov.msgs import MsgSubmitProposal, MsgVote
from ledger.app.gov.store import YES
from ledger.app.market import client as mc
from ledger.app.market import model, queries
from ledger.app.market.msgs import MsgSlash
from ledger.app.params import PPM
from tests.ledger.app.gov.govhelpers import COM, GOV, attrs, key, text
from tests.ledger.app.market.mkthelpers import (
    ACME,
    ACME_DID,
    BETA,
    CAROL,
    DAN,
    EVE,
    H1,
    MARKET,
    MarketChain,
    chain,
    refused,
)

VALS = [key(f"v{i}") for i in range(1, 4)]


def listed() -> MarketChain:
    c = chain({**{k.address: 100 * COM for k in (ACME, BETA, CAROL, DAN, EVE)},
               **{v.address: COM for v in VALS}}, voting_period=60)
    for v in VALS:
        c.source.delegate(v.address, v.address, 10 * COM)
    c.deliver(ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 100, stake=1_000))
    return c


def test_stakes_are_bounded_and_the_provider_is_no_curator() -> None:
    c = listed()
    c.run(MsgUpdateParams(GOV, "market", {"max_curators": 1}))
    c.deliver(CAROL, mc.stake_msg(CAROL, "ds", 10))
    c.deliver(CAROL, mc.stake_msg(CAROL, "ds", 5))
    e = refused(c.deliver, DAN, mc.stake_msg(DAN, "ds", 10))
    assert (e.code, str(e)) == (INVALID_REQUEST, "dataset 'ds' already has 1 curators, the "
                                                 "most it may have")
    e = refused(c.deliver, ACME, mc.stake_msg(ACME, "ds", 10))
    assert str(e) == "a provider's stake on its own dataset is the one of its listing"
    e = refused(c.deliver, CAROL, mc.unstake_msg(CAROL, "ds", 16))
    assert str(e) == f"{text(CAROL)} has 15 ucom staked on 'ds', less than 16 ucom"
    assert bank.balance(c.state, MARKET) == 1_015
    assert c.problems() == []


def test_unstaking_waits_the_unbonding_blocks_then_returns_the_coins() -> None:
    c = listed()
    c.deliver(CAROL, mc.stake_msg(CAROL, "ds", 300))
    had = bank.balance(c.state, CAROL.address)
    events = c.deliver(CAROL, mc.unstake_msg(CAROL, "ds", 120))
    assert attrs(events, "market_stake") == [{"action": "unstake", "dataset_id": "ds",
                                              "account": text(CAROL), "amount": "120ucom",
                                              "release_height": "21"}]
    after = bank.balance(c.state, CAROL.address)
    assert after < had  # only the fee moved: the stake waits in the market account
    c.blocks(19)
    assert c.ctx.height == 20 and queries.stakes(c.state, "ds")[1]["unbonding"] == 120
    events = c.end_block(1)
    assert attrs(events, "market_stake") == [{"action": "return", "dataset_id": "ds",
                                              "account": text(CAROL), "amount": "120ucom"}]
    assert queries.stakes(c.state, "ds")[1]["curators"] == [
        {"account": text(CAROL), "bonded": 180, "unbonding": []}]
    assert bank.balance(c.state, MARKET) == 1_180
    assert bank.balance(c.state, CAROL.address) == after + 120
    assert c.problems() == []


def test_a_slash_passed_by_vote_takes_bonded_and_unbonding_stakes_and_burns_them() -> None:
    c = listed()
    c.deliver(CAROL, mc.stake_msg(CAROL, "ds", 333))
    c.deliver(DAN, mc.stake_msg(DAN, "ds", 50))
    c.deliver(DAN, mc.unstake_msg(DAN, "ds", 50))  # unbonding: still slashable
    supply = bank.supply(c.state)
    e = refused(c.deliver, EVE, MsgSlash(EVE.address, "ds", 100, "no"))
    assert e.code == UNAUTHORIZED
    c.deliver(EVE, MsgSubmitProposal(EVE.address, (mc.slash_msg("ds", 2_500, "false data"),),
                                     10 * COM, "Slash ds", "The data is false", ""))
    for v in VALS:
        c.deliver(v, MsgVote(1, v.address, ((YES, PPM),)))
    c.end_block(59)
    assert model.must_listing(c.state, "ds").status == "listed"
    events = c.end_block(1)
    assert store.must_get(c.state, 1).status == "passed"
    assert attrs(events, "market_slash") == [{"dataset_id": "ds", "fraction_bps": "2500",
                                              "burned": "345ucom", "reason": "false data"}]
    # 25% of 1000 (ACME), 333 (CAROL: 83.25 -> 83) and 50 unbonding (DAN: 12)
    assert {a["account"]: a["amount"] for a in attrs(events, "market_stake")
            if a["action"] == "slash"} == {text(ACME): "250ucom", text(CAROL): "83ucom",
                                           text(DAN): "12ucom"}
    assert bank.supply(c.state) == supply - 345
    lst = model.must_listing(c.state, "ds")
    assert lst.status == "slashed"
    _, st = queries.stakes(c.state, "ds")
    assert (st["bonded"], st["unbonding"]) == (0, 750 + 250 + 38)  # what is left unbonds
    e = refused(c.deliver, EVE, mc.pay_msg(EVE, "ds", "agr", 100))
    assert str(e) == "dataset 'ds' is slashed: it takes no payments"
    e = refused(c.deliver, ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, 1))
    assert str(e) == f"dataset 'ds' is already listed by {ACME_DID} (slashed)"
    c.blocks(20)
    assert bank.balance(c.state, MARKET) == 0 and queries.stakes(c.state, "ds")[1]["unbonding"] == 0
    assert c.problems() == []
