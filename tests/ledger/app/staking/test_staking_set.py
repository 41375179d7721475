"""The bonded set at each end of block: ranking, capacity, jailing, validator updates as a diff
(effective at H+2), the unbonding of validators that leave; governance's tally source and the
queries with their proving keys."""

from __future__ import annotations

from ledger.app import bank
from ledger.app.gov.tally import TallySource
from ledger.app.staking import queries, store, tally_source
from ledger.app.staking.msgs import MsgDelegate, MsgUndelegate
from ledger.app.staking.slash import jail
from ledger.app.staking.store import BONDED, UNBONDED, UNBONDING
from tests.ledger.app.staking.chain import COM, Chain, attrs, cons_key, genesis_validator, key, text

ALICE, V1, V2, V3 = key("alice"), key("v1"), key("v2"), key("v3")
DAY = 86_400


def chain(**params: int) -> Chain:
    return Chain({ALICE.address: 1000 * COM, V1.address: 100 * COM, V2.address: 100 * COM,
                  V3.address: 100 * COM},
                 [genesis_validator("v1", 50 * COM), genesis_validator("v2", 30 * COM),
                  genesis_validator("v3", 30 * COM)],
                 staking_params={"max_validators": 2, "unbonding_time": DAY, **params})


def powers(c: Chain) -> list[tuple[str, int]]:
    names = {cons_key(n).pub_key: n for n in ("v1", "v2", "v3")}
    return [(names[u.pub_key], u.power) for u in c.updates]


def test_the_top_validators_by_power_are_bonded_ties_by_operator_address() -> None:
    c = chain()
    first, second = sorted([V2.address, V3.address])
    assert store.must_validator(c.state, first).status == BONDED
    assert store.must_validator(c.state, second).status == UNBONDED
    assert bank.balance(c.state, bank.module(bank.BONDED_POOL)) == 80 * COM
    assert bank.balance(c.state, bank.module(bank.NOT_BONDED_POOL)) == 30 * COM
    assert c.problems() == []


def test_a_power_change_and_a_displacement_are_sent_as_a_diff() -> None:
    c = chain()
    first, second = sorted([V2.address, V3.address])
    loser = {V2.address: "v2", V3.address: "v3"}
    c.block()
    assert c.updates == []
    c.deliver(ALICE, MsgDelegate(ALICE.address, second, 25 * COM))  # 55 > 50 > 30
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 500_000))  # not a whole unit
    events = c.block()
    assert powers(c) == [(loser[second], 55), (loser[first], 0)]
    assert attrs(events, "unbond_validator")[0]["validator"] == text(first)
    assert store.must_validator(c.state, first).status == UNBONDING
    assert c.problems() == []
    c.block(seconds=DAY)
    assert store.must_validator(c.state, first).status == UNBONDED
    assert c.problems() == []


def test_a_jailed_validator_leaves_at_the_next_end_block_and_its_stake_unbonds() -> None:
    c = chain(max_validators=3)
    c.begin()
    jail(c.state, V1.address)
    assert store.must_validator(c.state, V1.address).status == BONDED  # until the end block
    c.end()
    assert powers(c) == [("v1", 0)]
    v = store.must_validator(c.state, V1.address)
    assert v.status == UNBONDING
    c.block()
    assert c.set_powers.get(cons_key("v1").pub_key) == 50  # H+1: still signing
    c.block()
    assert c.set_powers.get(cons_key("v1").pub_key) is None  # consensus dropped it at H+2
    assert c.problems() == []


def test_an_unbonding_validator_that_ranks_again_is_bonded_again() -> None:
    c = chain(max_validators=3)
    c.deliver(V1, MsgUndelegate(V1.address, V1.address, 49 * COM + 500_000))  # power 0
    c.block()
    assert powers(c) == [("v1", 0)]
    assert store.must_validator(c.state, V1.address).status == UNBONDING
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 2 * COM))
    c.block()
    assert powers(c) == [("v1", 2)]
    assert store.must_validator(c.state, V1.address).status == BONDED
    c.block(seconds=DAY)  # its old unbonding completion no longer applies
    assert store.must_validator(c.state, V1.address).status == BONDED
    assert c.problems() == []


def test_tally_source_gives_bonded_validators_and_delegations() -> None:
    c = chain()
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 10 * COM))
    src: TallySource = tally_source(c.state)  # mypy checks the protocol governance reads
    assert sorted((v.operator, v.tokens) for v in src.bonded_validators()) == sorted(
        [(V1.address, 60 * COM), (min(V2.address, V3.address), 30 * COM)])
    assert src.delegations_of(ALICE.address) == [(V1.address, 10 * COM * store.DEC)]
    assert src.total_bonded() == 90 * COM


def test_queries_answer_with_the_key_that_proves_them() -> None:
    c = chain()
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 10 * COM))
    c.deliver(ALICE, MsgUndelegate(ALICE.address, V1.address, COM))
    key_, v = queries.validator(c.state, V1.address)
    assert key_ == b"stk/v/" + V1.address
    assert (v["tokens"], v["power"], v["status"], v["moniker"]) == (59 * COM, 59, "bonded", "v1")
    key_, d = queries.delegations(c.state, ALICE.address)
    assert key_ == b"stk/d/" + ALICE.address
    assert d["delegations"] == [{"validator": text(V1), "shares": str(9 * COM * store.DEC),
                                 "balance": 9 * COM}]
    key_, u = queries.unbonding(c.state, ALICE.address)
    assert key_ == b"stk/u/" + ALICE.address
    assert u["unbonding"][0]["entries"][0]["balance"] == COM
    key_, p = queries.pool(c.state)
    assert (p["bonded"], p["not_bonded"], p["bonded_validators"]) == (89 * COM, 31 * COM, 2)
    assert len(queries.validators(c.state)[1]["validators"]) == 3
    assert queries.params(c.state)[1]["max_validators"] == 2


def test_governance_counts_stake_through_this_source() -> None:
    """Governance's own count over staking's records: a delegator who votes takes its stake
    from its validator's vote; a validator's vote carries the rest."""
    from ledger.app.gov import store as gstore
    from ledger.app.gov.tally import count

    c = chain()
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 10 * COM))
    c.block()
    c.state.set(gstore.vote_key(1, V1.address), gstore.encode_vote(((gstore.YES, 1_000_000),)))
    c.state.set(gstore.vote_key(1, ALICE.address), gstore.encode_vote(((gstore.NO, 1_000_000),)))
    t = count(c.state, 1, tally_source(c.state))
    assert (t.yes // 1_000_000, t.no // 1_000_000, t.total_bonded) == (50 * COM, 10 * COM, 90 * COM)
