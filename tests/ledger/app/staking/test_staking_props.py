"""Random sequences of staking messages, blocks, jails and slashes: after every step the pools
hold exactly the stake they account for, shares add up, the supply identity holds, and
distribution owes no more than it holds."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app import staking
from ledger.app.errors import AppError
from ledger.app.staking import store
from ledger.app.staking.msgs import MsgCancelUnbonding, MsgDelegate, MsgRedelegate, MsgUndelegate
from ledger.app.staking.slash import jail, slash
from tests.ledger.app.staking.chain import COM, Chain, genesis_validator, key

PEOPLE = [key(n) for n in ("alice", "bob", "carol")]
VALS = [key(n) for n in ("v1", "v2", "v3")]

step = st.one_of(
    st.tuples(st.just("delegate"), st.integers(0, 2), st.integers(0, 2),
              st.integers(1, 20 * COM)),
    st.tuples(st.just("undelegate"), st.integers(0, 2), st.integers(0, 2),
              st.integers(1, 20 * COM)),
    st.tuples(st.just("redelegate"), st.integers(0, 2), st.integers(0, 5),
              st.integers(1, 20 * COM)),
    st.tuples(st.just("cancel"), st.integers(0, 2), st.integers(0, 2),
              st.integers(1, 20 * COM)),
    st.tuples(st.just("block"), st.integers(1, 4), st.integers(0, 1), st.integers(0, 0)),
    st.tuples(st.just("jail"), st.integers(0, 2), st.integers(0, 0), st.integers(0, 0)),
    st.tuples(st.just("slash"), st.integers(0, 2), st.integers(0, 3),
              st.integers(1, 1_000_000)),
)


def run(c: Chain, s: tuple[str, int, int, int]) -> None:
    kind, a, b, n = s
    if kind == "block":
        c.block(seconds=a * 86_400 if b else 5)
        return
    if kind == "jail":
        jail(c.state, VALS[a].address)
        return
    if kind == "slash":
        slash(c.state, c.ctx, VALS[a].address, max(c.ctx.height - b, 1), n)
        return
    who = PEOPLE[a]
    m: Any
    if kind == "delegate":
        m = MsgDelegate(who.address, VALS[b].address, n)
    elif kind == "undelegate":
        m = MsgUndelegate(who.address, VALS[b].address, n)
    elif kind == "cancel":  # the latest unbonding entry, if any
        es = store.entries(c.state, store.ubd_key(who.address, VALS[b].address))
        height = es[-1][0] if es else 1
        m = MsgCancelUnbonding(who.address, VALS[b].address, n, height)
    else:
        src, dst = VALS[b // 2], VALS[(b // 2 + 1 + b % 2) % 3]
        m = MsgRedelegate(who.address, src.address, dst.address, n)
    try:
        c.deliver(who, m)
    except AppError:
        pass  # a refusal changes nothing but the fee and the sequence


@settings(max_examples=120, deadline=None)
@given(st.lists(step, min_size=1, max_size=25))
def test_staking_invariants_hold_after_every_step(steps: list[tuple[str, int, int, int]]) -> None:
    c = Chain({**{p.address: 100 * COM for p in PEOPLE}, **{v.address: 50 * COM for v in VALS}},
              [genesis_validator(n, 10 * COM) for n in ("v1", "v2", "v3")],
              staking_params={"max_validators": 2, "unbonding_time": 2 * 86_400,
                              "max_entries": 3})
    for s in steps:
        run(c, s)
        assert c.problems() == [], s
    c.block(seconds=3 * 86_400)
    c.block()
    assert c.problems() == []
    # Everything that was unbonding has come back: the not-bonded pool holds only the stake of
    # validators outside the set.
    assert staking.problems(c.state) == []
