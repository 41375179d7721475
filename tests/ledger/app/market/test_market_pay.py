"""Payments: the split exact to the unit with awkward numbers, the agreement rules, refusals
with the sentence a user reads, and the value report."""

from __future__ import annotations

from ledger.app import bank
from ledger.app.errors import INVALID_REQUEST, NOT_FOUND
from ledger.app.market import client as mc
from ledger.app.market import pay, queries
from ledger.app.market.params import MarketParams
from tests.ledger.app.gov.govhelpers import POOL, attrs, text
from tests.ledger.app.market.mkthelpers import (
    ACME,
    ACME_DID,
    BETA,
    CAROL,
    DAN,
    EVE,
    H1,
    MarketChain,
    chain,
    refused,
)

FEES = bank.module(bank.FEE_COLLECTOR)
PRICE = 1_000_003  # a prime


def listed(price: int = PRICE) -> MarketChain:
    """ACME lists "ds" with three contributors (shares 5, 3, 1); CAROL and DAN curate it
    (stakes 7 and 4 ucom)."""
    c = chain()
    c.deliver(ACME, mc.list_msg(ACME, "ds", ACME_DID, H1, price,
                                [(ACME.address, 5), (BETA.address, 3), (EVE.address, 1)]))
    c.deliver(CAROL, mc.stake_msg(CAROL, "ds", 7))
    c.deliver(DAN, mc.stake_msg(DAN, "ds", 4))
    return c


def test_the_split_is_exact_to_the_unit() -> None:
    p = MarketParams()
    parts = pay.split(PRICE, p, [(b"a", 5), (b"b", 3), (b"e", 1)], [(b"c", 7), (b"d", 4)])
    # extracted 3% = 30000 (floor of 30000.09): burned 20% 6000, validators 40% 12000,
    # community the rest 12000; curators 10% of 970003 = 97000, 7/11 and 4/11 floored:
    # 61727 + 35272 = 96999, the dust (1) to contributors: 873004 by 5/9, 3/9, 1/9
    assert (parts["extracted"], parts["burned"], parts["validators"], parts["community"]) == (
        30_000, 6_000, 12_000, 12_000)
    assert parts["curators"] == [(b"c", 61_727), (b"d", 35_272)]
    assert parts["contributors"] == [(b"a", 485_002 + 1), (b"b", 291_001), (b"e", 97_000)]
    assert (sum(n for _, n in parts["contributors"] + parts["curators"])
            + parts["extracted"]) == PRICE


def test_without_curator_stake_contributors_take_all_but_the_extracted() -> None:
    parts = pay.split(101, MarketParams(), [(b"a", 1), (b"b", 1)], [])
    assert parts["curators"] == [] and parts["extracted"] == 3
    assert parts["contributors"] == [(b"a", 49), (b"b", 49)]
    assert (parts["burned"], parts["validators"], parts["community"]) == (0, 1, 2)


def test_a_payment_moves_every_part_and_records_the_use() -> None:
    c = listed()
    before = {k: bank.balance(c.state, k.address) for k in (ACME, BETA, CAROL, DAN, EVE)}
    supply, fees = bank.supply(c.state), bank.balance(c.state, FEES)
    events = c.deliver(EVE, mc.pay_msg(EVE, "ds", "agr-1", PRICE))
    fee = before[EVE] - bank.balance(c.state, EVE.address) - PRICE + 97_000
    assert fee > 0  # EVE paid the price and a fee, and got back its contributor share
    assert bank.balance(c.state, ACME.address) - before[ACME] == 485_003
    assert bank.balance(c.state, BETA.address) - before[BETA] == 291_001
    assert bank.balance(c.state, CAROL.address) - before[CAROL] == 61_727
    assert bank.balance(c.state, DAN.address) - before[DAN] == 35_272
    assert bank.balance(c.state, POOL) == 12_000
    assert bank.balance(c.state, FEES) - fees == 12_000 + fee  # the validators' part, with the fee
    assert bank.supply(c.state) == supply - 6_000
    assert attrs(events, "market_payment") == [{
        "dataset_id": "ds", "agreement_id": "agr-1", "payer": text(EVE),
        "amount": f"{PRICE}ucom", "use": "1", "contributors": "873004ucom",
        "curators": "96999ucom", "extracted": "30000ucom", "burned": "6000ucom",
        "community": "12000ucom", "validators": "12000ucom"}]
    assert len(attrs(events, "market_share")) == 5
    c.deliver(EVE, mc.pay_msg(EVE, "ds", "agr-1", PRICE))  # a second use of the agreement
    _, rec = queries.payments(c.state, "agr-1")
    assert rec == {"agreement_id": "agr-1", "dataset_id": "ds", "payer": text(EVE),
                   "count": 2, "total": 2 * PRICE, "last_height": 1}
    _, v = queries.value(c.state, "ds")
    assert {k: v[k] for k in ("paid", "contributors", "curators", "extracted", "burned",
                              "community", "validators", "payments")} == {
        "paid": 2 * PRICE, "contributors": 2 * 873_004, "curators": 2 * 96_999,
        "extracted": 60_000, "burned": 12_000, "community": 24_000, "validators": 24_000,
        "payments": 2}
    assert {r["account"]: r["amount"] for r in v["returned"]} == {
        text(ACME): 970_006, text(BETA): 582_002, text(EVE): 194_000, text(CAROL): 123_454,
        text(DAN): 70_544}
    _, total = queries.value(c.state, "")
    assert total["paid"] == 2 * PRICE and total["dataset_id"] is None
    assert c.problems() == []


def test_payments_refused_with_a_clear_reason() -> None:
    c = listed()
    e = refused(c.deliver, EVE, mc.pay_msg(EVE, "ds", "agr-1", PRICE - 1))
    assert (e.code, str(e)) == (INVALID_REQUEST, f"the listing asks {PRICE} ucom per use, "
                                                 f"this payment is {PRICE - 1}")
    e = refused(c.deliver, EVE, mc.pay_msg(EVE, "nope", "agr-1", PRICE))
    assert (e.code, str(e)) == (NOT_FOUND, "dataset 'nope' is not listed on the market")
    c.deliver(EVE, mc.pay_msg(EVE, "ds", "agr-1", PRICE))
    e = refused(c.deliver, DAN, mc.pay_msg(DAN, "ds", "agr-1", PRICE))
    assert str(e) == "agreement 'agr-1' is paid by another account"
    c.deliver(BETA, mc.list_msg(BETA, "other", "did:web:beta.example", H1, 5))
    e = refused(c.deliver, EVE, mc.pay_msg(EVE, "other", "agr-1", 5))
    assert str(e) == "agreement 'agr-1' is paid for another dataset"
    c.deliver(ACME, mc.delist_msg(ACME, "ds"))
    e = refused(c.deliver, EVE, mc.pay_msg(EVE, "ds", "agr-2", PRICE))
    assert str(e) == "dataset 'ds' is delisted: it takes no payments"
    assert queries.payments(c.state, "agr-2")[1]["count"] == 0  # an unpaid agreement
    assert c.problems() == []


def test_a_free_listing_counts_uses_of_zero() -> None:
    c = listed(price=0)
    c.deliver(EVE, mc.pay_msg(EVE, "ds", "agr-0", 0))
    assert queries.payments(c.state, "agr-0")[1]["count"] == 1
    assert queries.value(c.state, "ds")[1]["paid"] == 0
    assert c.problems() == []


def test_the_shares_follow_governance_parameters() -> None:
    p = MarketParams(extraction_bps=10_000, burn_bps=10_000, community_bps=0,
                     validators_bps=0, curator_bps=0)
    parts = pay.split(77, p, [(b"a", 1)], [(b"c", 1)])
    assert (parts["burned"], parts["contributors"], parts["curators"]) == (77, [(b"a", 0)],
                                                                           [(b"c", 0)])
