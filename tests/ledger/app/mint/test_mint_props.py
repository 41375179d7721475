"""Random minting runs: whatever the parameters and the bonded share, inflation stays within
its bounds, minted coins are counted in the supply and all reach the distribution (so the
supply identity and the reward invariants hold after every block)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app import bank, mint
from ledger.app.errors import AppError
from ledger.app.mint import DEC
from ledger.app.params import PPM
from ledger.app.staking.msgs import MsgDelegate, MsgUndelegate
from tests.ledger.app.staking.chain import COM, Chain, genesis_validator, key

V1, ALICE = key("v1"), key("alice")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 300_000), st.integers(0, 300_000), st.integers(1, 1_000_000),
       st.integers(1, 1000),
       st.lists(st.tuples(st.booleans(), st.integers(1, 500 * COM)), max_size=12))
def test_minting_keeps_inflation_in_bounds_and_the_supply_whole(
        lo: int, hi: int, goal: int, per_year: int, moves: list[tuple[bool, int]]) -> None:
    lo, hi = min(lo, hi), max(lo, hi)
    c = Chain({V1.address: 100 * COM, ALICE.address: 900 * COM},
              [genesis_validator("v1", 100 * COM)],
              mint_params={"enabled": True, "inflation_min_ppm": lo, "inflation_max_ppm": hi,
                           "goal_bonded_ppm": goal, "blocks_per_year": per_year})
    minted = 0
    for bond, amount in moves:
        m = (MsgDelegate if bond else MsgUndelegate)(ALICE.address, V1.address, amount)
        try:
            c.deliver(ALICE, m)
        except AppError:
            pass
        c.block()
        inflation = mint.minter(c.state)["inflation"]
        assert lo * DEC // PPM <= inflation <= hi * DEC // PPM
        assert bank.supply_parts(c.state)["minted"] >= minted
        minted = bank.supply_parts(c.state)["minted"]
        assert bank.balance(c.state, bank.module(bank.FEE_COLLECTOR)) == 0  # all shared
        assert c.problems() == []
