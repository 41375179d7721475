"""Staking's messages over a real store with signed transactions: each success, and each
refusal with the sentence a user reads."""

from __future__ import annotations

import pytest

from ledger.app import bank
from ledger.app.errors import INSUFFICIENT_FUNDS, INVALID_REQUEST, NOT_FOUND, UNAUTHORIZED, AppError
from ledger.app.staking import store
from ledger.app.staking.msgs import (
    MsgCancelUnbonding,
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from ledger.app.staking.store import BONDED, DEC, UNBONDED
from tests.ledger.app.staking.chain import COM, Chain, attrs, cons_key, genesis_validator, key, text

ALICE, BOB, V1, V2, V3 = key("alice"), key("bob"), key("v1"), key("v2"), key("v3")
BONDED_POOL, NOT_BONDED = bank.module(bank.BONDED_POOL), bank.module(bank.NOT_BONDED_POOL)
DAY = 86_400


def chain(**kw: object) -> Chain:
    return Chain({ALICE.address: 1000 * COM, BOB.address: 10 * COM, V1.address: 100 * COM,
                  V2.address: 100 * COM, V3.address: 100 * COM},
                 [genesis_validator("v1", 50 * COM), genesis_validator("v2", 30 * COM)],
                 **kw)  # type: ignore[arg-type]


def refused(c: Chain, signer: object, m: object) -> AppError:
    with pytest.raises(AppError) as e:
        c.deliver(signer, m)  # type: ignore[arg-type]
    return e.value


def create(k: object = V3, amount: int = 20 * COM, rate: int = 50_000, max_rate: int = 200_000,
           change: int = 10_000) -> MsgCreateValidator:
    name = {V3: "v3", ALICE: "alice", V1: "v1"}[k]  # type: ignore[index]
    return MsgCreateValidator(k.address, cons_key(name).pub_key, amount, rate, max_rate,  # type: ignore[attr-defined]
                              change, name)


def test_genesis_bonds_the_founding_validators_from_their_balances() -> None:
    c = chain()
    assert [(u.pub_key, u.power) for u in c.init_updates] == [
        (cons_key("v1").pub_key, 50), (cons_key("v2").pub_key, 30)]
    v1 = store.must_validator(c.state, V1.address)
    assert (v1.status, v1.tokens, v1.delegator_shares) == (BONDED, 50 * COM, 50 * COM * DEC)
    assert bank.balance(c.state, V1.address) == 50 * COM
    assert bank.balance(c.state, BONDED_POOL) == 80 * COM
    assert c.problems() == []


def test_genesis_refusals_name_the_validator() -> None:
    bad = genesis_validator("v1", 50 * COM)
    changes: list[tuple[dict[str, object], str]] = [
            ({"pub_key": "00"}, "genesis staking: validator 0: pub_key must be 64 hex digits "
                                "(an Ed25519 key)"),
            ({"self_bond": 0}, "genesis staking: validator 0: self_bond must be a positive "
                               "integer of ucom"),
            ({"self_bond": 500 * COM}, f"genesis staking: validator 0: insufficient funds: "
                                       f"{text(V1)} has 100000000 ucom, needs 500000000 ucom")]
    for change, sentence in changes:
        with pytest.raises(AppError) as e:
            Chain({V1.address: 100 * COM}, [{**bad, **change}])
        assert str(e.value) == sentence
    with pytest.raises(AppError) as e:
        Chain({V1.address: 100 * COM}, [bad, bad])
    assert str(e.value) == f"genesis staking: validator 1: {text(V1)} appears twice"


def test_a_created_validator_joins_the_set_at_the_end_of_the_block() -> None:
    c = chain()
    c.begin()
    events = c.deliver(V3, create())
    assert attrs(events, "create_validator") == [{"validator": text(V3), "amount": "20000000ucom"}]
    assert store.must_validator(c.state, V3.address).status == UNBONDED
    assert bank.balance(c.state, NOT_BONDED) == 20 * COM
    assert c.problems() == []
    c.end()
    assert [(u.pub_key, u.power) for u in c.updates] == [(cons_key("v3").pub_key, 20)]
    assert store.must_validator(c.state, V3.address).status == BONDED
    assert bank.balance(c.state, BONDED_POOL) == 100 * COM
    assert bank.balance(c.state, V3.address) == 80 * COM - 20_000
    assert c.problems() == []


def test_create_validator_refusals() -> None:
    c = chain(staking_params={"min_commission_ppm": 50_000})
    e = refused(c, V1, create(V1))
    assert (e.code, str(e)) == (INVALID_REQUEST, f"{text(V1)} is already a validator")
    taken = MsgCreateValidator(V3.address, cons_key("v1").pub_key, COM, 50_000, 100_000, 1, "x")
    e = refused(c, V3, taken)
    assert str(e) == (f"the consensus key {cons_key('v1').pub_key.hex()} is already used by a "
                      f"validator")
    e = refused(c, V3, create(rate=10_000))
    assert str(e) == "the commission rate 10000 ppm is below the minimum 50000 ppm"
    e = refused(c, V3, create(rate=300_000))
    assert str(e) == "the commission rate 300000 ppm exceeds its maximum 200000 ppm"
    e = refused(c, V3, create(change=300_000))
    assert str(e) == "the maximum change 300000 ppm exceeds the maximum rate 200000 ppm"
    e = refused(c, V3, create(amount=500 * COM))
    assert e.code == INSUFFICIENT_FUNDS
    assert store.get_validator(c.state, V3.address) is None
    assert c.problems() == []


def test_edit_validator_moniker_and_commission_within_its_limits() -> None:
    c = chain()
    c.begin()
    c.deliver(V3, create())
    c.end()
    events = c.deliver(V3, MsgEditValidator(V3.address, "v3 renamed", None))
    assert attrs(events, "edit_validator") == [{"validator": text(V3), "moniker": "v3 renamed",
                                                "commission_rate": "50000"}]
    e = refused(c, V3, MsgEditValidator(V3.address, None, 55_000))
    assert str(e) == "the commission rate can change at most once every 24 hours"
    c.block(seconds=DAY)
    e = refused(c, V3, MsgEditValidator(V3.address, None, 70_000))
    assert str(e) == "the commission rate may change by at most 10000 ppm at a time"
    c.deliver(V3, MsgEditValidator(V3.address, None, 60_000))
    assert store.must_validator(c.state, V3.address).commission_ppm == 60_000
    e = refused(c, BOB, MsgEditValidator(BOB.address, "me", None))
    assert (e.code, str(e)) == (NOT_FOUND, f"{text(BOB)} is not a validator")


def test_delegation_shares_follow_the_exchange_rate() -> None:
    c = chain()
    events = c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 10 * COM))
    assert attrs(events, "delegate")[0]["amount"] == "10000000ucom"
    assert store.shares(c.state, ALICE.address, V1.address) == 10 * COM * DEC
    v = store.must_validator(c.state, V1.address)
    # An exchange rate below 1 (as after a slash): new shares are tokens * S / T, rounded down.
    store.set_validator(c.state, v.with_(tokens=v.tokens - 3))
    bank.burn(c.state, bank.BONDED_POOL, 3)
    c.deliver(BOB, MsgDelegate(BOB.address, V1.address, COM))
    v = store.must_validator(c.state, V1.address)
    got = store.shares(c.state, BOB.address, V1.address)
    assert got == COM * (60 * COM * DEC) // (60 * COM - 3)
    assert v.tokens_of(got) <= COM
    e = refused(c, BOB, MsgDelegate(BOB.address, BOB.address, COM))
    assert (e.code, str(e)) == (NOT_FOUND, f"{text(BOB)} is not a validator")
    assert c.problems() == []


def test_undelegation_waits_the_unbonding_time() -> None:
    c = chain(staking_params={"unbonding_time": 3 * DAY, "max_entries": 2})
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 10 * COM))
    before = bank.balance(c.state, ALICE.address)
    events = c.deliver(ALICE, MsgUndelegate(ALICE.address, V1.address, 4 * COM))
    assert attrs(events, "unbond")[0]["amount"] == "4000000ucom"
    assert bank.balance(c.state, NOT_BONDED) == 4 * COM
    assert c.problems() == []
    c.deliver(ALICE, MsgUndelegate(ALICE.address, V1.address, COM))
    e = refused(c, ALICE, MsgUndelegate(ALICE.address, V1.address, COM))
    assert str(e) == f"{text(ALICE)} already has 2 unbonding entries with {text(V1)} (the most)"
    e = refused(c, ALICE, MsgUndelegate(ALICE.address, V2.address, COM))
    assert (e.code, str(e)) == (NOT_FOUND, f"{text(ALICE)} has no delegation to {text(V2)}")
    e = refused(c, ALICE, MsgUndelegate(ALICE.address, V1.address, 6 * COM))
    assert (e.code, str(e)) == (INSUFFICIENT_FUNDS, f"the delegation of {text(ALICE)} to "
                                f"{text(V1)} is worth 5000000 ucom, less than 6000000 ucom")
    fees = before - bank.balance(c.state, ALICE.address)
    c.block(seconds=3 * DAY - 10)
    assert bank.balance(c.state, ALICE.address) == before - fees
    events = c.block(seconds=10)
    assert attrs(events, "complete_unbonding") == [
        {"validator": text(V1), "delegator": text(ALICE), "amount": "5000000ucom"}]
    assert bank.balance(c.state, ALICE.address) == before - fees + 5 * COM
    assert bank.balance(c.state, NOT_BONDED) == 0
    assert c.problems() == []


def test_undelegating_everything_leaves_no_dust_and_a_self_unbond_jails() -> None:
    c = chain()
    c.deliver(ALICE, MsgDelegate(ALICE.address, V2.address, 7 * COM))
    c.deliver(ALICE, MsgUndelegate(ALICE.address, V2.address, 7 * COM))
    assert store.shares(c.state, ALICE.address, V2.address) == 0
    events = c.deliver(V2, MsgUndelegate(V2.address, V2.address, 30 * COM))
    assert attrs(events, "jail") == [{"validator": text(V2), "reason": "no self-delegation"}]
    c.block()
    assert [(u.pub_key, u.power) for u in c.updates] == [(cons_key("v2").pub_key, 0)]
    assert c.problems() == []


def test_redelegation_is_instant_and_not_transitive() -> None:
    c = chain(staking_params={"unbonding_time": DAY})
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 10 * COM))
    events = c.deliver(ALICE, MsgRedelegate(ALICE.address, V1.address, V2.address, 4 * COM))
    assert attrs(events, "redelegate")[0]["amount"] == "4000000ucom"
    assert store.must_validator(c.state, V2.address).tokens == 34 * COM
    assert c.problems() == []
    e = refused(c, ALICE, MsgRedelegate(ALICE.address, V2.address, V1.address, COM))
    assert str(e) == (f"the stake of {text(ALICE)} with {text(V2)} arrived by a redelegation "
                      f"that has not matured: it cannot be redelegated again yet")
    e = refused(c, ALICE, MsgRedelegate(ALICE.address, V1.address, V1.address, COM))
    assert str(e) == "cannot redelegate to the same validator"
    e = refused(c, ALICE, MsgRedelegate(ALICE.address, V1.address, BOB.address, COM))
    assert str(e) == f"{text(BOB)} is not a validator"
    c.block(seconds=DAY)
    assert c.state.get(store.red_key(ALICE.address, V1.address, V2.address)) is None
    c.deliver(ALICE, MsgRedelegate(ALICE.address, V2.address, V1.address, COM))
    assert c.problems() == []


def test_delegating_to_a_tombstoned_validator_is_refused() -> None:
    c = chain()
    v = store.must_validator(c.state, V2.address)
    store.set_validator(c.state, v.with_(tombstoned=True, jailed=True))
    e = refused(c, ALICE, MsgDelegate(ALICE.address, V2.address, COM))
    assert (e.code, str(e)) == (UNAUTHORIZED, f"validator {text(V2)} is tombstoned (it "
                                              f"double-signed) and takes no delegations")


def test_an_unbonding_can_be_cancelled_back_into_the_validator() -> None:
    c = chain()
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 10 * COM))
    c.block()
    height = c.ctx.height
    c.deliver(ALICE, MsgUndelegate(ALICE.address, V1.address, 6 * COM))
    e = refused(c, ALICE, MsgCancelUnbonding(ALICE.address, V1.address, 7 * COM, height))
    assert (e.code, str(e)) == (INSUFFICIENT_FUNDS, "the unbonding entry holds 6000000 ucom, "
                                                    "less than 7000000 ucom")
    e = refused(c, ALICE, MsgCancelUnbonding(ALICE.address, V1.address, COM, height + 1))
    assert (e.code, str(e)) == (NOT_FOUND, f"{text(ALICE)} has no unbonding from {text(V1)} "
                                           f"begun at height {height + 1}")
    events = c.deliver(ALICE, MsgCancelUnbonding(ALICE.address, V1.address, 2 * COM, height))
    assert attrs(events, "cancel_unbonding_delegation")[0]["amount"] == "2000000ucom"
    assert store.entries(c.state, store.ubd_key(ALICE.address, V1.address))[0][2:] == [
        4 * COM, 4 * COM]
    assert store.must_validator(c.state, V1.address).tokens_of(
        store.shares(c.state, ALICE.address, V1.address)) == 6 * COM
    assert c.problems() == []
    c.deliver(ALICE, MsgCancelUnbonding(ALICE.address, V1.address, 4 * COM, height))
    assert c.state.get(store.ubd_key(ALICE.address, V1.address)) is None
    assert bank.balance(c.state, NOT_BONDED) == 0
    c.block(seconds=30 * DAY)  # the queue's stale key matures into nothing
    assert c.problems() == []
    v = store.must_validator(c.state, V1.address)
    store.set_validator(c.state, v.with_(jailed=True))
    c.deliver(ALICE, MsgUndelegate(ALICE.address, V1.address, COM))
    e = refused(c, ALICE, MsgCancelUnbonding(ALICE.address, V1.address, COM, c.ctx.height))
    assert str(e) == f"validator {text(V1)} is jailed: unbonding from it cannot be cancelled"
