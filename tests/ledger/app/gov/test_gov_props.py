"""Random sequences of submissions, deposits, votes and blocks: the deposits the gov account
holds always add up, the supply identity holds, and finished proposals hold nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app import bank
from ledger.app.errors import AppError
from ledger.app.gov import store
from ledger.app.gov.msgs import MsgDeposit, MsgSubmitProposal, MsgVote
from ledger.app.params import PPM
from tests.ledger.app.gov.govhelpers import COM, GOV, Chain, key

KEYS = [key(f"p{i}") for i in range(3)]
STEP = st.one_of(
    st.tuples(st.just("submit"), st.integers(0, 2), st.sampled_from([0, 2 * COM, 10 * COM])),
    st.tuples(st.just("deposit"), st.integers(0, 2), st.integers(1, 3),
              st.sampled_from([50_000, COM, 8 * COM])),
    st.tuples(st.just("vote"), st.integers(0, 2), st.sampled_from([1, 1, 2, 3]),
              st.sampled_from([1, 1, 1, 2, 3, 4])),
    st.tuples(st.just("block"), st.sampled_from([1, 10, 61])),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(STEP, min_size=6, max_size=24))
def test_deposits_always_add_up(steps: list[tuple[int | str, ...]]) -> None:
    c = Chain({k.address: 40 * COM for k in KEYS},
              {"voting_period": 60, "max_deposit_period": 90})
    for i, k in enumerate(KEYS):
        c.source.delegate(k.address, k.address, (i + 1) * COM)
    burned = 0
    for step in [("submit", 0, 10 * COM), *steps]:
        kind = step[0]
        try:
            if kind == "submit":
                k = KEYS[int(step[1])]
                c.deliver(k, MsgSubmitProposal(k.address, (), int(step[2]), "t", "s", ""))
            elif kind == "deposit":
                k = KEYS[int(step[1])]
                c.deliver(k, MsgDeposit(int(step[2]), k.address, int(step[3])))
            elif kind == "vote":
                k = KEYS[int(step[1])]
                c.deliver(k, MsgVote(int(step[2]), k.address, ((int(step[3]), PPM),)))
            else:
                before = bank.supply(c.state)
                c.end_block(int(step[1]))
                burned += before - bank.supply(c.state)
        except AppError:
            pass
        assert c.problems() == []
    c.end_block(200)  # everything ends: nothing is left in the gov account
    assert bank.balance(c.state, GOV) == 0 and c.problems() == []
    assert all(p.status in ("passed", "rejected") for p in store.all_proposals(c.state))
    assert bank.supply_parts(c.state)["burned"] >= burned
