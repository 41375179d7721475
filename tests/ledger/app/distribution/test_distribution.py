"""Distribution over a real store: each block's fees burned in part, taxed, shared by the
signers' power with commission; F1 rewards settled on withdrawal and on every delegation
change, reduced by slashes; the messages' successes and refusals; queries and their keys."""

from __future__ import annotations

import pytest

from ledger.app import bank
from ledger.app.distribution import queries
from ledger.app.distribution.msgs import (
    MsgSetWithdrawAddress,
    MsgWithdrawCommission,
    MsgWithdrawRewards,
)
from ledger.app.errors import INVALID_REQUEST, NOT_FOUND, UNAUTHORIZED, AppError
from ledger.app.staking.msgs import MsgDelegate, MsgUndelegate
from ledger.app.staking.slash import slash
from ledger.app.staking.store import DEC
from tests.ledger.app.staking.chain import COM, Chain, attrs, cons_key, genesis_validator, key, text

ALICE, BOB, V1, V2, V3 = key("alice"), key("bob"), key("v1"), key("v2"), key("v3")
FEES, POOL = bank.module(bank.FEE_COLLECTOR), bank.module(bank.COMMUNITY_POOL)
DIST = bank.module(bank.DISTRIBUTION)
DELEGATE_FEE, WITHDRAW_FEE = 10_000, 8_000


def chain(collected: int = 1_000_000 - DELEGATE_FEE, **kw: object) -> Chain:
    """v1 50 com (40 self, 10 alice's: delegated at genesis' height), v2 30, v3 20."""
    c = Chain({ALICE.address: 100 * COM, BOB.address: 10 * COM, V1.address: 100 * COM,
               V2.address: 100 * COM, V3.address: 100 * COM, FEES: collected},
              [genesis_validator("v1", 40 * COM), genesis_validator("v2", 30 * COM),
               genesis_validator("v3", 20 * COM)], **kw)  # type: ignore[arg-type]
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 10 * COM))
    return c


def test_fees_are_burned_taxed_and_shared_by_the_signers_power() -> None:
    c = chain()
    supply = bank.supply(c.state)
    events = c.begin()
    assert bank.supply(c.state) == supply - 200_000
    rewards = {a["validator"]: a["amount"] for a in attrs(events, "rewards")}
    # By the powers that signed (40, 30, 20: alice's delegation is not in consensus yet).
    assert rewards == {text(V1): "348444ucom", text(V2): "261333ucom", text(V3): "174222ucom"}
    assert {"amount": "34844ucom", "validator": text(V1)} in attrs(events, "commission")
    assert attrs(events, "community_pool") == [{"amount": "16001ucom"}]  # tax and 1 of dust
    assert bank.balance(c.state, POOL) == 16_001
    assert bank.balance(c.state, DIST) == 783_999
    assert queries.outstanding(c.state, V1.address) == (b"dst/out/" + V1.address,
                                                        {"validator": text(V1),
                                                         "outstanding": 348_444})
    assert queries.rewards(c.state, ALICE.address)[1]["rewards"] == [
        {"validator": text(V1), "reward": 62_720}]  # F1: by tokens, 10 of v1's 50 com
    assert queries.rewards(c.state, V1.address)[1]["total"] == 250_880
    c.end()
    assert c.problems() == []


def test_an_absent_validator_earns_nothing_and_nobody_signing_feeds_the_pool() -> None:
    c = chain()
    events = c.begin(absent=(cons_key("v1").address,))
    assert {a["validator"] for a in attrs(events, "rewards")} == {text(V2), text(V3)}
    assert attrs(events, "rewards")[0]["amount"] in ("470400ucom", "313600ucom")
    c.end()
    bank.transfer(c.state, ALICE.address, FEES, 1_000)
    pool = bank.balance(c.state, POOL)
    c.begin(absent=tuple(cons_key(n).address for n in ("v1", "v2", "v3")))
    assert bank.balance(c.state, POOL) == pool + 800
    c.end()
    assert c.problems() == []


def test_withdrawals_pay_rewards_and_commission_to_the_withdraw_address() -> None:
    c = chain()
    c.block()
    before = bank.balance(c.state, ALICE.address)
    events = c.deliver(ALICE, MsgWithdrawRewards(ALICE.address, V1.address))
    assert attrs(events, "withdraw_rewards") == [{"amount": "62720ucom", "validator": text(V1),
                                                  "delegator": text(ALICE)}]
    assert bank.balance(c.state, ALICE.address) == before - WITHDRAW_FEE + 62_720
    assert queries.rewards(c.state, ALICE.address)[1]["total"] == 0
    events = c.deliver(V1, MsgSetWithdrawAddress(V1.address, BOB.address))
    assert attrs(events, "set_withdraw_address") == [{"delegator": text(V1),
                                                      "withdraw_address": text(BOB)}]
    bob = bank.balance(c.state, BOB.address)
    events = c.deliver(V1, MsgWithdrawCommission(V1.address))
    assert attrs(events, "withdraw_commission") == [{"amount": "34844ucom",
                                                     "validator": text(V1)}]
    assert bank.balance(c.state, BOB.address) == bob + 34_844
    assert queries.commission(c.state, V1.address)[1]["commission"] == 0
    c.deliver(V1, MsgWithdrawRewards(V1.address, V1.address))
    assert bank.balance(c.state, BOB.address) == bob + 34_844 + 250_880
    assert c.problems() == []


def test_message_refusals() -> None:
    c = chain(distribution_params={"withdraw_addr_enabled": False})
    e = _refused(c, BOB, MsgWithdrawRewards(BOB.address, V1.address))
    assert (e.code, str(e)) == (NOT_FOUND, f"{text(BOB)} has no delegation to {text(V1)}")
    e = _refused(c, BOB, MsgWithdrawRewards(BOB.address, BOB.address))
    assert (e.code, str(e)) == (NOT_FOUND, f"{text(BOB)} is not a validator")
    e = _refused(c, V1, MsgWithdrawCommission(V1.address))
    assert (e.code, str(e)) == (INVALID_REQUEST, f"validator {text(V1)} has no commission to "
                                                 f"withdraw")
    e = _refused(c, ALICE, MsgSetWithdrawAddress(ALICE.address, BOB.address))
    assert str(e) == "setting a withdraw address is disabled by governance"
    e = _refused(c, ALICE, MsgSetWithdrawAddress(ALICE.address, POOL))
    assert (e.code, str(e)) == (UNAUTHORIZED, f"{text(POOL)} is a module account "
                                              f"(community_pool) and cannot receive sends")


def _refused(c: Chain, signer: object, m: object) -> AppError:
    with pytest.raises(AppError) as e:
        c.deliver(signer, m)  # type: ignore[arg-type]
    return e.value


def test_a_delegation_change_settles_its_rewards_first() -> None:
    c = chain()
    c.block()
    before = bank.balance(c.state, ALICE.address)
    events = c.deliver(ALICE, MsgUndelegate(ALICE.address, V1.address, 5 * COM))
    assert attrs(events, "withdraw_rewards")[0]["amount"] == "62720ucom"
    assert bank.balance(c.state, ALICE.address) == before - 12_000 + 62_720
    assert queries.rewards(c.state, ALICE.address)[1]["total"] == 0
    c.block()  # the undelegation's fee, shared: alice now holds 5 of v1's 45 com
    reward = queries.rewards(c.state, ALICE.address)[1]["total"]
    v1_share = (12_000 - 2_400 - 192) * 40 // 90
    to_delegators = v1_share - v1_share // 10
    assert reward == 5 * COM * (to_delegators * DEC // (45 * COM)) // DEC
    assert c.problems() == []


def test_a_slash_starts_a_new_period_and_reduces_later_rewards() -> None:
    c = chain()
    c.block()
    c.begin()
    slash(c.state, c.ctx, V1.address, c.ctx.height, 500_000)  # half of v1's stake burned
    c.end()
    assert queries.rewards(c.state, ALICE.address)[1]["total"] == 62_720  # earned before
    bank.transfer(c.state, BOB.address, bank.module(bank.FEE_COLLECTOR), 1_000_000)
    events = c.block()
    v1_reward = int(next(a["amount"] for a in attrs(events, "rewards")
                         if a["validator"] == text(V1))[:-4])
    to_delegators = v1_reward - v1_reward // 10
    got = queries.rewards(c.state, ALICE.address)[1]["total"] - 62_720
    assert to_delegators // 5 - 1 <= got <= to_delegators // 5  # alice holds 5 of v1's 25 com
    assert c.problems() == []


def test_rewards_of_a_validator_without_tokens_go_to_the_community_pool() -> None:
    c = chain()
    c.begin()  # v3's delegators earn 156,800 (its self-bond only)
    slash(c.state, c.ctx, V3.address, c.ctx.height, 1_000_000)  # then it loses every token
    c.end()
    bank.transfer(c.state, BOB.address, FEES, 1_000_000)
    c.begin()  # still in the last commit: its delegators' part has no stake to go to
    pool = bank.balance(c.state, POOL)
    v3 = bank.balance(c.state, V3.address)
    c.deliver(V3, MsgWithdrawRewards(V3.address, V3.address))
    assert bank.balance(c.state, V3.address) == v3 - WITHDRAW_FEE + 156_800
    assert bank.balance(c.state, POOL) == pool + 156_800
    c.end()
    assert c.problems() == []


def test_ratios_no_delegation_needs_are_pruned() -> None:
    c = chain()
    for _ in range(20):
        c.block()
        c.deliver(ALICE, MsgWithdrawRewards(ALICE.address, V1.address))
        c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, COM))
    kept = [k for k, _ in c.state.items(b"dst/his/" + V1.address)]
    assert len(kept) == 2  # v1's own start, and the last closed period (alice's start)
    assert c.problems() == []
