"""Staking's message handlers: each refuses with one sentence (AppError) or returns events."""

from __future__ import annotations

from ...abci import Event
from .. import address, bank
from ..blockctx import BlockContext
from ..errors import INSUFFICIENT_FUNDS, INVALID_REQUEST, NOT_FOUND, UNAUTHORIZED, AppError
from ..msgs import Msg
from ..state import State
from . import keeper, store
from . import params as sparams
from .msgs import (
    MsgCancelUnbonding,
    MsgCreateValidator,
    MsgDelegate,
    MsgEditValidator,
    MsgRedelegate,
    MsgUndelegate,
)
from .store import BONDED, UNBONDED, Validator, b8

DAY_MS = 86_400_000


def _t(a: bytes) -> str:
    return address.to_text(a)


def handle_create(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgCreateValidator)
    p = sparams.load(state)
    if store.get_validator(state, m.operator) is not None:
        raise AppError(INVALID_REQUEST, f"{_t(m.operator)} is already a validator")
    cons = address.of_pub_key(m.pub_key)
    if state.get(store.CONS + cons) is not None:
        raise AppError(INVALID_REQUEST, f"the consensus key {m.pub_key.hex()} is already "
                                        f"used by a validator")
    if m.commission_ppm < p.min_commission_ppm:
        raise AppError(INVALID_REQUEST, f"the commission rate {m.commission_ppm} ppm is below "
                                        f"the minimum {p.min_commission_ppm} ppm")
    v = Validator(m.operator, m.pub_key, 0, 0, m.commission_ppm, m.max_commission_ppm,
                  m.max_change_ppm, ctx.time, m.moniker)
    return create(state, ctx, v, m.amount)


def create(state: State, ctx: BlockContext, v: Validator, self_bond: int) -> list[Event]:
    """A new unbonded validator and its self-delegation (end_block bonds it if it ranks)."""
    from ..distribution import hooks

    store.set_validator(state, v)
    state.set(store.CONS + v.cons_address, v.operator)
    hooks.validator_created(state, ctx, v.operator)
    events = [bank.event("create_validator", validator=_t(v.operator),
                         amount=bank.coins(self_bond))]
    return events + _delegate(state, ctx, v.operator, v, self_bond)


def _delegate(state: State, ctx: BlockContext, delegator: bytes, v: Validator,
              amount: int) -> list[Event]:
    events = bank.transfer(state, delegator, bank.module(keeper.pool_of(v)), amount)
    v, new, more = keeper.add_tokens(state, ctx, delegator, v, amount)
    return events + more + [bank.event("delegate", validator=_t(v.operator),
                                       delegator=_t(delegator), amount=bank.coins(amount),
                                       new_shares=str(new))]


def handle_edit(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgEditValidator)
    v = store.must_validator(state, m.operator)
    if m.moniker is not None:
        v = v.with_(moniker=m.moniker)
    if m.commission_ppm is not None and m.commission_ppm != v.commission_ppm:
        rate = m.commission_ppm
        if ctx.time - v.commission_time < DAY_MS:
            raise AppError(INVALID_REQUEST, "the commission rate can change at most once "
                                            "every 24 hours")
        if rate > v.max_commission_ppm:
            raise AppError(INVALID_REQUEST, f"the commission rate {rate} ppm exceeds the "
                                            f"maximum {v.max_commission_ppm} ppm")
        if abs(rate - v.commission_ppm) > v.max_change_ppm:
            raise AppError(INVALID_REQUEST, f"the commission rate may change by at most "
                                            f"{v.max_change_ppm} ppm at a time")
        min_rate = sparams.load(state).min_commission_ppm
        if rate < min_rate:
            raise AppError(INVALID_REQUEST, f"the commission rate {rate} ppm is below the "
                                            f"minimum {min_rate} ppm")
        v = v.with_(commission_ppm=rate, commission_time=ctx.time)
    store.set_validator(state, v)
    return [bank.event("edit_validator", validator=_t(v.operator), moniker=v.moniker,
                       commission_rate=str(v.commission_ppm))]


def _open_validator(state: State, operator: bytes) -> Validator:
    v = store.must_validator(state, operator)
    if v.tombstoned:
        raise AppError(UNAUTHORIZED, f"validator {_t(operator)} is tombstoned (it double-signed)"
                                     f" and takes no delegations")
    if v.tokens == 0 and v.delegator_shares > 0:
        raise AppError(INVALID_REQUEST, f"validator {_t(operator)} has no tokens left "
                                        f"(slashed entirely) and takes no delegations")
    return v


def handle_delegate(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgDelegate)
    return _delegate(state, ctx, m.delegator, _open_validator(state, m.validator), m.amount)


def _shares_for(state: State, delegator: bytes, v: Validator, amount: int) -> int:
    held = store.shares(state, delegator, v.operator)
    if held == 0:
        raise AppError(NOT_FOUND, f"{_t(delegator)} has no delegation to {_t(v.operator)}")
    worth = v.tokens_of(held)
    if amount > worth:
        raise AppError(INSUFFICIENT_FUNDS, f"the delegation of {_t(delegator)} to "
                                           f"{_t(v.operator)} is worth {bank.shown(worth)}, "
                                           f"less than {bank.shown(amount)}")
    return keeper.shares_for(v, held, amount)


def _completion(v: Validator, ctx: BlockContext, p: sparams.StakingParams) -> int:
    """When stake leaving `v` stops being slashable: a bonded validator's after the full
    unbonding time, an unbonding one's when it is itself unbonded, an unbonded one's now."""
    if v.status == BONDED:
        return ctx.time + p.unbonding_time * 1000
    return min(v.unbonding_time, ctx.time + p.unbonding_time * 1000) if v.status != UNBONDED \
        else ctx.time


def handle_undelegate(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgUndelegate)
    p = sparams.load(state)
    v = store.must_validator(state, m.validator)
    shares = _shares_for(state, m.delegator, v, m.amount)
    key = store.ubd_key(m.delegator, m.validator)
    es = store.entries(state, key)
    if len(es) >= p.max_entries:
        raise AppError(INVALID_REQUEST, f"{_t(m.delegator)} already has {p.max_entries} "
                                        f"unbonding entries with {_t(m.validator)} (the most)")
    before = v.status
    v, tokens, events = keeper.remove_shares(state, ctx, m.delegator, v, shares)
    if before == BONDED:
        keeper.move_pool(state, bank.BONDED_POOL, bank.NOT_BONDED_POOL, tokens)
    done = ctx.time + p.unbonding_time * 1000
    if tokens > 0:
        store.set_entries(state, key, es + [[ctx.height, done, tokens, tokens]])
        state.set(store.UBD_QUEUE + b8(done) + m.delegator + m.validator, b"")
        state.set(store.UBD_BY_VAL + m.validator + m.delegator, b"")
    return events + [bank.event("unbond", validator=_t(m.validator), delegator=_t(m.delegator),
                                amount=bank.coins(tokens), completion_time=str(done))]


def handle_redelegate(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgRedelegate)
    p = sparams.load(state)
    src = store.must_validator(state, m.src)
    dst = _open_validator(state, m.dst)
    if state.get_int(store.RED_INTO + m.delegator + m.src) > 0:
        raise AppError(INVALID_REQUEST, f"the stake of {_t(m.delegator)} with {_t(m.src)} "
                                        f"arrived by a redelegation that has not matured: "
                                        f"it cannot be redelegated again yet")
    shares = _shares_for(state, m.delegator, src, m.amount)
    key = store.red_key(m.delegator, m.src, m.dst)
    es = store.entries(state, key)
    if len(es) >= p.max_entries:
        raise AppError(INVALID_REQUEST, f"{_t(m.delegator)} already has {p.max_entries} "
                                        f"redelegations from {_t(m.src)} to {_t(m.dst)} "
                                        f"(the most)")
    done = _completion(src, ctx, p)
    src_pool = keeper.pool_of(src)
    src, tokens, events = keeper.remove_shares(state, ctx, m.delegator, src, shares)
    dst = store.must_validator(state, m.dst)
    keeper.move_pool(state, src_pool, keeper.pool_of(dst), tokens)
    shares_dst = 0
    if tokens > 0:
        dst, shares_dst, more = keeper.add_tokens(state, ctx, m.delegator, dst, tokens)
        events += more
    if done > ctx.time and tokens > 0:
        if not es:
            into = store.RED_INTO + m.delegator + m.dst
            state.set_int(into, state.get_int(into) + 1)
        store.set_entries(state, key, es + [[ctx.height, done, tokens, shares_dst]])
        state.set(store.RED_QUEUE + b8(done) + m.delegator + m.src + m.dst, b"")
        state.set(store.RED_BY_SRC + m.src + m.delegator + m.dst, b"")
    return events + [bank.event("redelegate", source_validator=_t(m.src),
                                destination_validator=_t(m.dst), delegator=_t(m.delegator),
                                amount=bank.coins(tokens), completion_time=str(done))]


def handle_cancel_unbonding(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    """Delegate back (part of) an unbonding entry's balance, as the SDK's
    MsgCancelUnbondingDelegation: the coins go from the not-bonded pool to the validator."""
    assert isinstance(m, MsgCancelUnbonding)
    v = _open_validator(state, m.validator)
    if v.jailed:
        raise AppError(INVALID_REQUEST, f"validator {_t(m.validator)} is jailed: unbonding "
                                        f"from it cannot be cancelled")
    key = store.ubd_key(m.delegator, m.validator)
    es = store.entries(state, key)
    at = [i for i, e in enumerate(es) if e[0] == m.creation_height and e[1] > ctx.time]
    if not at:
        raise AppError(NOT_FOUND, f"{_t(m.delegator)} has no unbonding from {_t(m.validator)} "
                                  f"begun at height {m.creation_height}")
    entry = es[at[0]]
    if m.amount > entry[3]:
        raise AppError(INSUFFICIENT_FUNDS, f"the unbonding entry holds {bank.shown(entry[3])}, "
                                           f"less than {bank.shown(m.amount)}")
    entry[3] -= m.amount
    entry[2] -= min(m.amount, entry[2])
    if entry[3] == 0:
        del es[at[0]]
    store.set_entries(state, key, es)
    if not es:
        state.delete(store.UBD_BY_VAL + m.validator + m.delegator)
    keeper.move_pool(state, bank.NOT_BONDED_POOL, keeper.pool_of(v), m.amount)
    v, new, events = keeper.add_tokens(state, ctx, m.delegator, v, m.amount)
    return events + [bank.event("cancel_unbonding_delegation", validator=_t(m.validator),
                                delegator=_t(m.delegator), amount=bank.coins(m.amount),
                                creation_height=str(m.creation_height))]
