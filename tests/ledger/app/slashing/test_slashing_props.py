"""Random blocks with absent signers and double-sign evidence, among delegations,
undelegations and unjails: after every block the stake pools, shares, supply and rewards
invariants hold, and a tombstoned validator stays jailed."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.abci import MISBEHAVIOR_DUPLICATE_VOTE, Misbehavior
from ledger.app.errors import AppError
from ledger.app.slashing import MsgUnjail
from ledger.app.staking import store
from ledger.app.staking.msgs import MsgDelegate, MsgUndelegate
from tests.ledger.app.staking.chain import COM, Chain, cons_key, genesis_validator, key

NAMES = ("v1", "v2", "v3", "v4")
VALS = [key(n) for n in NAMES]
CONS = [cons_key(n).address for n in NAMES]
ALICE = key("alice")

step = st.tuples(st.sets(st.integers(0, 3), max_size=2),  # absent from the last commit
                 st.one_of(st.none(), st.tuples(st.integers(0, 3), st.integers(1, 3))),
                 st.integers(0, 3), st.integers(0, 3), st.integers(1, 5 * COM))


@settings(max_examples=80, deadline=None)
@given(st.lists(step, min_size=1, max_size=30))
def test_invariants_hold_through_downtime_and_double_signs(steps: list[Any]) -> None:
    c = Chain({ALICE.address: 500 * COM, **{v.address: 50 * COM for v in VALS}},
              [genesis_validator(n, 20 * COM) for n in NAMES],
              staking_params={"unbonding_time": 60},
              slashing_params={"signed_blocks_window": 4, "downtime_jail_duration": 10})
    for absent, evidence, action, target, amount in steps:
        misbehavior: tuple[Misbehavior, ...] = ()
        if evidence is not None:
            v, back = evidence
            misbehavior = (Misbehavior(MISBEHAVIOR_DUPLICATE_VOTE, CONS[v],
                                       max(c.ctx.height - back, 1), 0, 0),)
        c.begin(seconds=5, absent=tuple(CONS[i] for i in absent), misbehavior=misbehavior)
        m: Any = [MsgDelegate(ALICE.address, VALS[target].address, amount),
                  MsgUndelegate(ALICE.address, VALS[target].address, amount),
                  MsgUnjail(VALS[target].address), None][action]
        try:
            if m is not None:
                c.deliver(VALS[target] if action == 2 else ALICE, m)
        except AppError:
            pass
        c.end()
        assert c.problems() == []
        for v in store.all_validators(c.state):
            assert v.jailed or not v.tombstoned
