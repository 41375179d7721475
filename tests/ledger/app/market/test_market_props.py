"""Random sequences of market messages (most succeed, some are refused) and blocks, with a slash
now and then: after each step the value identities, the stakes held by the market account and
the supply invariant hold, and a dataset's value report adds up to what its payments moved."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app.errors import AppError
from ledger.app.market import client as mc
from ledger.app.market import model
from tests.ledger.app.gov.govhelpers import COM
from tests.ledger.app.market.mkthelpers import (
    ACME,
    ACME_DID,
    BETA,
    BETA_DID,
    CAROL,
    DAN,
    EVE,
    H1,
    chain,
)

PEOPLE = (ACME, BETA, CAROL, DAN, EVE)
DATASETS = ("d1", "d2")
step = st.tuples(st.sampled_from(("list", "update", "delist", "stake", "unstake", "pay",
                                  "slash", "block")),
                 st.integers(0, 4), st.integers(0, 1), st.integers(1, 10_007))


def play(steps: list[tuple[str, int, int, int]]) -> list[str]:
    """Run the steps, checking the invariants after each; the kinds that succeeded."""
    c = chain({k.address: 1_000 * COM for k in PEOPLE}, voting_period=60)
    done: list[str] = []
    for kind, who, ds, n in steps:
        k, dataset = PEOPLE[who], DATASETS[ds]
        provider, did = (ACME, ACME_DID) if ds == 0 else (BETA, BETA_DID)
        lst = model.listing(c.state, dataset)
        price = lst.price if lst is not None else 0
        try:
            if kind == "list":
                c.deliver(provider, mc.list_msg(provider, dataset, did, H1, n % 5_000,
                                                [(provider.address, 3), (k.address, n % 4 + 1)]
                                                if k != provider else [], n))
            elif kind == "update":
                c.deliver(provider, mc.update_listing_msg(provider, dataset, n, H1,
                                                          [(k.address, 2)]))
            elif kind == "delist":
                c.deliver(provider, mc.delist_msg(provider, dataset))
            elif kind == "stake":
                c.deliver(k, mc.stake_msg(k, dataset, n))
            elif kind == "unstake":
                bonded = model.stakes(c.state, dataset).curators.get(k.address, 0)
                c.deliver(k, mc.unstake_msg(k, dataset, max(1, bonded * (n % 100 + 1) // 100)))
            elif kind == "pay":
                c.deliver(k, mc.pay_msg(k, dataset, f"agr-{who}-{ds}", price))
            elif kind == "slash":  # run directly, as a passed proposal would
                c.run(mc.slash_msg(dataset, n % 10_000 + 1, "found false"))
            else:
                c.blocks(n % 25)
            done.append(kind)
        except AppError:
            pass  # refusals change nothing (the message ran on a dropped branch)
        assert c.problems() == []
    return done


@settings(max_examples=40, deadline=None)
@given(st.lists(step, min_size=5, max_size=30))
def test_market_invariants_hold_after_every_step(steps: list[tuple[str, int, int, int]]) -> None:
    play(steps)


def test_the_steps_can_each_succeed() -> None:
    steps = [("list", 2, 0, 4_001), ("stake", 3, 0, 77), ("stake", 4, 0, 5), ("pay", 4, 0, 0),
             ("unstake", 3, 0, 49), ("update", 1, 0, 13), ("pay", 2, 0, 0), ("block", 0, 0, 3),
             ("slash", 0, 0, 3_332), ("block", 0, 0, 24), ("list", 0, 1, 9),
             ("delist", 0, 1, 0), ("block", 0, 0, 21)]
    assert play(steps) == [s[0] for s in steps]
