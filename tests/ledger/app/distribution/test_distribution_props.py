"""Random fees, delegations, redelegations, undelegations, withdrawals, slashes and blocks with
absent signers: after every step the distribution account holds exactly what validators are
owed, no validator owes more than it holds, and what was paid out never exceeds what was
collected (the supply identity and the stake invariants hold too)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app import bank
from ledger.app.distribution.msgs import MsgWithdrawCommission, MsgWithdrawRewards
from ledger.app.errors import AppError
from ledger.app.staking.msgs import MsgDelegate, MsgRedelegate, MsgUndelegate
from ledger.app.staking.slash import slash
from tests.ledger.app.staking.chain import COM, Chain, cons_key, genesis_validator, key

PEOPLE = [key(n) for n in ("alice", "bob")]
NAMES = ("v1", "v2", "v3")
VALS = [key(n) for n in NAMES]
FEES = bank.module(bank.FEE_COLLECTOR)

step = st.tuples(st.sampled_from(["fees", "delegate", "undelegate", "redelegate", "withdraw",
                                  "commission", "slash", "block"]),
                 st.integers(0, 1), st.integers(0, 2), st.integers(1, 3 * COM))


def run(c: Chain, kind: str, who_i: int, v_i: int, n: int) -> None:
    who, v = PEOPLE[who_i], VALS[v_i]
    if kind == "fees":
        bank.transfer(c.state, who.address, FEES, min(n, bank.balance(c.state, who.address)))
        return
    if kind == "slash":
        slash(c.state, c.ctx, v.address, c.ctx.height, n % 300_000)
        return
    if kind == "block":
        c.block(seconds=5 if n % 3 else 86_400, absent=(cons_key(NAMES[v_i]).address,)
                if n % 2 else ())
        return
    m: Any = {"delegate": MsgDelegate(who.address, v.address, n),
              "undelegate": MsgUndelegate(who.address, v.address, n),
              "redelegate": MsgRedelegate(who.address, v.address,
                                          VALS[(v_i + 1) % 3].address, n),
              "withdraw": MsgWithdrawRewards(who.address, v.address),
              "commission": MsgWithdrawCommission(v.address)}[kind]
    signer = v if kind == "commission" else who
    try:
        c.deliver(signer, m)
    except AppError:
        pass


@settings(max_examples=120, deadline=None)
@given(st.lists(step, min_size=1, max_size=30))
def test_rewards_owed_never_exceed_what_was_collected(steps: list[Any]) -> None:
    c = Chain({**{p.address: 100 * COM for p in PEOPLE}, **{v.address: 20 * COM for v in VALS}},
              [genesis_validator(n, 10 * COM, 50_000 * (i + 1)) for i, n in enumerate(NAMES)],
              staking_params={"unbonding_time": 86_400},
              mint_params={"enabled": True, "blocks_per_year": 1000})  # inflation in the mix
    for s in steps:
        run(c, *s)
        assert c.problems() == [], s
    c.block()
    # Everyone withdraws everything: the distribution account keeps at most the dust.
    for p in PEOPLE + VALS:
        for v in VALS:
            try:
                c.deliver(p, MsgWithdrawRewards(p.address, v.address))
            except AppError:
                pass
    for v in VALS:
        try:
            c.deliver(v, MsgWithdrawCommission(v.address))
        except AppError:
            pass
    assert c.problems() == []
    assert bank.balance(c.state, bank.module(bank.DISTRIBUTION)) <= 10 * len(steps) + 10
