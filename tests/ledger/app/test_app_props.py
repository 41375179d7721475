"""Random blocks of random transactions (good, failing, refused): the supply invariant and
non-negative balances hold after every block, and a second app agrees on every hash."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.app import bank, client, msgs
from ledger.app.app import LedgerApp
from tests.ledger.app.apphelpers import (
    ALICE,
    BOB,
    CAROL,
    CHAIN,
    VAL1,
    VAL2,
    new_app,
    run_block,
    signed_by,
)

KEYS = (ALICE, BOB, CAROL)
TARGETS = tuple(k.address for k in KEYS) + (bank.module(bank.COMMUNITY_POOL),)

action = st.tuples(
    st.sampled_from(range(3)),  # signer
    st.sampled_from(("send", "multi", "badseq", "lowfee")),
    st.sampled_from(range(len(TARGETS))),
    st.integers(1, 400_000),
)
block = st.tuples(st.lists(action, max_size=6), st.sampled_from(((), (0,), (0, 1), (1,))))


def sequence(app: LedgerApp, key: object) -> int:
    res = app.query("/auth/account", key.address)  # type: ignore[attr-defined]
    return int(json.loads(res.value)["sequence"])


def build(app: LedgerApp, pending: dict[int, int], a: tuple[int, str, int, int]) -> bytes:
    who, kind, target, amount = a
    key = KEYS[who]
    seq = pending.get(who, sequence(app, key))
    to = TARGETS[target]
    if kind == "multi":
        m: msgs.Msg = msgs.MsgMultiSend(key.address, amount + 1, ((to, amount), (BOB.address, 1)))
    else:
        m = msgs.MsgSend(key.address, to, amount)
    fee = 1 if kind == "lowfee" else None
    raw = client.sign(key, CHAIN, seq + 5 if kind == "badseq" else seq, [m], fee)
    if kind in ("send", "multi"):
        pending[who] = seq + 1
    return raw


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(block, min_size=1, max_size=6))
def test_supply_and_determinism_over_random_blocks(blocks: list) -> None:  # type: ignore[type-arg]
    a, b = new_app(), new_app()
    for actions, signers in blocks:
        pending: dict[int, int] = {}
        txs = [build(a, pending, x) for x in actions]
        commit = signed_by(*[(VAL1, VAL2)[i] for i in signers])
        ra, rb = run_block(a, txs, commit), run_block(b, txs, commit)
        assert ra == rb
        assert a.invariant_problems() == []
    assert a.info() == b.info()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(block, min_size=1, max_size=5))
def test_what_check_tx_accepts_in_order_succeeds_in_the_block(blocks: list) -> None:  # type: ignore[type-arg]
    app = new_app()
    for actions, signers in blocks:
        pending: dict[int, int] = {}
        offered = [build(app, pending, x) for x in actions]
        accepted = [t for t in offered if app.check_tx(t).ok]
        res = run_block(app, accepted, signed_by(*[(VAL1, VAL2)[i] for i in signers]))
        assert [(r.code, r.log) for r in res.tx_results] == [(0, "")] * len(accepted)
        assert app.invariant_problems() == []
