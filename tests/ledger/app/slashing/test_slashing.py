"""Slashing over a real store: downtime over the window (slash, jail, unjail after the jail
time), double signing (the stake at the infraction, unbonding and redelegated stake included,
jailed forever and tombstoned, punished once), and unjail's refusals."""

from __future__ import annotations

import pytest

from ledger.abci import MISBEHAVIOR_DUPLICATE_VOTE, Misbehavior
from ledger.app import bank, slashing
from ledger.app.errors import INVALID_REQUEST, NOT_FOUND, UNAUTHORIZED, AppError
from ledger.app.slashing import MsgUnjail, queries
from ledger.app.slashing import store as sl_store
from ledger.app.staking import store
from ledger.app.staking.msgs import MsgDelegate, MsgRedelegate, MsgUndelegate
from ledger.app.staking.store import UNBONDING
from tests.ledger.app.staking.chain import COM, Chain, attrs, cons_key, genesis_validator, key, text

ALICE, V1, V2, V3 = key("alice"), key("v1"), key("v2"), key("v3")
CONS1 = cons_key("v1").address


def chain() -> Chain:
    return Chain({ALICE.address: 1000 * COM, V1.address: 100 * COM, V2.address: 100 * COM,
                  V3.address: 100 * COM},
                 [genesis_validator("v1", 40 * COM), genesis_validator("v2", 30 * COM),
                  genesis_validator("v3", 30 * COM)],
                 slashing_params={"signed_blocks_window": 10, "downtime_jail_duration": 60})


def refused(c: Chain, signer: object, m: object) -> AppError:
    with pytest.raises(AppError) as e:
        c.deliver(signer, m)  # type: ignore[arg-type]
    return e.value


def test_downtime_past_the_window_slashes_jails_and_unjail_waits_the_jail_time() -> None:
    c = chain()
    for _ in range(5):
        c.block()
    for _ in range(6):  # 6 of 10 missed, but the first window is not over yet (start 2)
        events = c.block(absent=(CONS1,))
    assert not store.must_validator(c.state, V1.address).jailed
    assert attrs(events, "liveness")[0]["missed_blocks"] == "6"
    c.begin(absent=(CONS1,))  # height 13 > 2 + 10, 7 missed > 5 allowed
    v = store.must_validator(c.state, V1.address)
    assert v.jailed and v.tokens == 40 * COM - 400_000
    assert bank.supply_parts(c.state)["burned"] >= 400_000
    info = sl_store.get(c.state, CONS1)
    assert info is not None and info.missed_count == 0 and info.jailed_until == c.ctx.time + 60_000
    c.end()
    assert [(u.pub_key, u.power) for u in c.updates] == [(cons_key("v1").pub_key, 0)]
    assert store.must_validator(c.state, V1.address).status == UNBONDING
    assert c.problems() == []
    e = refused(c, V1, MsgUnjail(V1.address))
    assert (e.code, str(e)) == (INVALID_REQUEST, f"validator {text(V1)} is jailed until "
                                f"{info.jailed_until} ms (block time); it is {c.ctx.time} ms")
    c.block(seconds=60)
    assert attrs(c.deliver(V1, MsgUnjail(V1.address)), "unjail") == [{"validator": text(V1)}]
    c.block()
    assert [(u.pub_key, u.power) for u in c.updates] == [(cons_key("v1").pub_key, 39)]
    for _ in range(3):  # a fresh window: missing a few blocks right away is no slash
        c.block(absent=(CONS1,))
    assert not store.must_validator(c.state, V1.address).jailed
    assert c.problems() == []


def test_a_double_sign_slashes_the_stake_at_the_infraction_and_tombstones() -> None:
    c = chain()
    c.deliver(ALICE, MsgDelegate(ALICE.address, V1.address, 20 * COM))
    c.deliver(ALICE, MsgUndelegate(ALICE.address, V1.address, 4 * COM))  # before: not slashed
    c.block()
    c.block()
    infraction = c.ctx.height
    c.block()
    c.deliver(ALICE, MsgUndelegate(ALICE.address, V1.address, 6 * COM))  # after: slashed
    c.deliver(ALICE, MsgRedelegate(ALICE.address, V1.address, V2.address, 10 * COM))
    before = store.must_validator(c.state, V1.address).tokens
    v2_before = store.must_validator(c.state, V2.address).tokens
    burned_before = bank.supply_parts(c.state)["burned"]
    evidence = Misbehavior(MISBEHAVIOR_DUPLICATE_VOTE, CONS1, infraction, 0, 100)
    c.begin(misbehavior=(evidence,))
    v = store.must_validator(c.state, V1.address)
    assert v.jailed and v.tombstoned
    assert v.tokens == before - before * 5 // 100
    ubd = store.entries(c.state, store.ubd_key(ALICE.address, V1.address))
    assert [e[3] for e in ubd] == [4 * COM, 6 * COM - 300_000]
    assert store.must_validator(c.state, V2.address).tokens == v2_before - 500_000
    burned = bank.supply_parts(c.state)["burned"] - burned_before
    assert burned >= before * 5 // 100 + 300_000 + 500_000
    c.end()  # v2 lost the slashed part of the redelegated stake: 39.5 com, power 39
    assert [(u.pub_key, u.power) for u in c.updates] == [(cons_key("v2").pub_key, 39),
                                                         (cons_key("v1").pub_key, 0)]
    assert c.problems() == []
    info = sl_store.get(c.state, CONS1)
    assert info is not None and info.tombstoned
    tokens = store.must_validator(c.state, V1.address).tokens
    c.block(misbehavior=(evidence,))  # the same or another double sign: punished once
    assert store.must_validator(c.state, V1.address).tokens == tokens
    c.block(seconds=10**6)
    e = refused(c, V1, MsgUnjail(V1.address))
    assert (e.code, str(e)) == (UNAUTHORIZED, f"validator {text(V1)} is tombstoned (it "
                                              f"double-signed) and can never be unjailed")
    assert queries.signing_info(c.state, CONS1)[0] == b"slh/i/" + CONS1
    assert queries.signing_info(c.state, CONS1)[1]["tombstoned"] is True
    assert c.problems() == []


def test_unjail_refusals() -> None:
    c = chain()
    e = refused(c, ALICE, MsgUnjail(ALICE.address))
    assert (e.code, str(e)) == (NOT_FOUND, f"{text(ALICE)} is not a validator")
    e = refused(c, V2, MsgUnjail(V2.address))
    assert str(e) == f"validator {text(V2)} is not jailed"
    c.deliver(V2, MsgUndelegate(V2.address, V2.address, 30 * COM))
    e = refused(c, V2, MsgUnjail(V2.address))
    assert str(e) == (f"validator {text(V2)} has no self-delegation: delegate to it from its "
                      f"operator account before unjailing")
    c.deliver(V2, MsgDelegate(V2.address, V2.address, 5 * COM))
    c.deliver(V2, MsgUnjail(V2.address))
    assert not store.must_validator(c.state, V2.address).jailed
    assert slashing.problems(c.state) == []


def test_slashing_params_are_validated() -> None:
    with pytest.raises(AppError) as e:
        slashing.SlashingParams.from_obj({"slash_fraction_downtime_ppm": 2_000_000})
    assert str(e.value) == "slashing parameter slash_fraction_downtime_ppm must be at most 1000000"
    with pytest.raises(AppError) as e:
        slashing.SlashingParams.from_obj({"signed_blocks_window": 0})
    assert str(e.value) == "slashing parameter signed_blocks_window must be positive"
    assert slashing.SlashingParams().max_missed() == 50
