"""Staking's end of block, in the SDK's order: the bonded set and its updates for consensus,
then validators whose unbonding finished, then unbonding delegations and redelegations that
matured (their coins back to the delegators).

The bonded set is the top `max_validators` validators that are not jailed and have power > 0
(power = tokens // 10^6), by power then operator address. A validator that joins takes its
tokens from the not-bonded pool to the bonded pool; one that leaves starts unbonding for
`unbonding_time` and its tokens go back. Updates are the difference with the powers last sent
(power 0 removes), effective at H+2 by consensus."""

from __future__ import annotations

from ...abci import Event, ValidatorUpdate
from .. import address, bank
from ..blockctx import BlockContext
from ..state import State
from . import keeper, store
from . import params as sparams
from .store import BONDED, LAST_POWER, UNBONDED, UNBONDING, Validator, b8


def _t(a: bytes) -> str:
    return address.to_text(a)


def last_powers(state: State) -> dict[bytes, int]:
    n = len(LAST_POWER)
    return {k[n:]: state.get_int(k) for k, _ in state.items(LAST_POWER)}


def apply_set(state: State, ctx: BlockContext) -> tuple[list[ValidatorUpdate], list[Event]]:
    p = sparams.load(state)
    ranked = sorted((v for v in store.all_validators(state) if not v.jailed and v.power > 0),
                    key=lambda v: (-v.power, v.operator))[:p.max_validators]
    last = last_powers(state)
    updates: list[ValidatorUpdate] = []
    events: list[Event] = []
    chosen = set()
    for v in ranked:
        chosen.add(v.operator)
        if v.status != BONDED:
            keeper.move_pool(state, bank.NOT_BONDED_POOL, bank.BONDED_POOL, v.tokens)
            if v.status == UNBONDING:
                state.delete(store.VAL_QUEUE + b8(v.unbonding_time) + v.operator)
            v = v.with_(status=BONDED, unbonding_time=0, unbonding_height=0)
            store.set_validator(state, v)
            events.append(bank.event("bond_validator", validator=_t(v.operator),
                                     power=str(v.power)))
        if last.get(v.operator) != v.power:
            updates.append(ValidatorUpdate(v.pub_key, v.power))
            state.set_int(LAST_POWER + v.operator, v.power)
    for op in sorted(set(last) - chosen):
        v = store.must_validator(state, op)
        state.delete(LAST_POWER + op)
        updates.append(ValidatorUpdate(v.pub_key, 0))
        if v.status == BONDED:
            events += begin_unbonding(state, ctx, v, p)
    return updates, events


def begin_unbonding(state: State, ctx: BlockContext, v: Validator,
                    p: sparams.StakingParams) -> list[Event]:
    keeper.move_pool(state, bank.BONDED_POOL, bank.NOT_BONDED_POOL, v.tokens)
    done = ctx.time + p.unbonding_time * 1000
    store.set_validator(state, v.with_(status=UNBONDING, unbonding_time=done,
                                       unbonding_height=ctx.height))
    state.set(store.VAL_QUEUE + b8(done) + v.operator, b"")
    return [bank.event("unbond_validator", validator=_t(v.operator), completion_time=str(done))]


def _due(state: State, prefix: bytes, now: int) -> list[bytes]:
    """Queue keys under `prefix` whose 8-byte time is <= now (a queue iterates by time)."""
    out = []
    for k, _ in state.items(prefix):
        if int.from_bytes(k[len(prefix):len(prefix) + 8], "big") > now:
            break
        out.append(k)
    return out


def mature(state: State, ctx: BlockContext) -> list[Event]:
    events: list[Event] = []
    n = len(store.VAL_QUEUE) + 8
    for k in _due(state, store.VAL_QUEUE, ctx.time):
        state.delete(k)
        v = store.get_validator(state, k[n:])
        if v is not None and v.status == UNBONDING:
            store.set_validator(state, v.with_(status=UNBONDED))
            events.append(bank.event("complete_unbonding_validator", validator=_t(v.operator)))
    n = len(store.UBD_QUEUE) + 8
    for k in _due(state, store.UBD_QUEUE, ctx.time):
        state.delete(k)
        delegator, op = k[n:n + 20], k[n + 20:n + 40]
        events += _complete_unbonding(state, ctx, delegator, op)
    n = len(store.RED_QUEUE) + 8
    for k in _due(state, store.RED_QUEUE, ctx.time):
        state.delete(k)
        delegator, src, dst = k[n:n + 20], k[n + 20:n + 40], k[n + 40:n + 60]
        key = store.red_key(delegator, src, dst)
        es = store.entries(state, key)
        left = [e for e in es if e[1] > ctx.time]
        store.set_entries(state, key, left)
        if es and not left:
            state.delete(store.RED_BY_SRC + src + delegator + dst)
            into = store.RED_INTO + delegator + dst
            state.set_int(into, state.get_int(into) - 1)
        if len(left) < len(es):
            events.append(bank.event("complete_redelegation", delegator=_t(delegator),
                                     source_validator=_t(src), destination_validator=_t(dst)))
    return events


def _complete_unbonding(state: State, ctx: BlockContext, delegator: bytes,
                        op: bytes) -> list[Event]:
    key = store.ubd_key(delegator, op)
    es = store.entries(state, key)
    left = [e for e in es if e[1] > ctx.time]
    paid = sum(e[3] for e in es if e[1] <= ctx.time)
    store.set_entries(state, key, left)
    if not left:
        state.delete(store.UBD_BY_VAL + op + delegator)
    events = bank.transfer(state, bank.module(bank.NOT_BONDED_POOL), delegator, paid)
    if len(left) < len(es):
        events.append(bank.event("complete_unbonding", validator=_t(op),
                                 delegator=_t(delegator), amount=bank.coins(paid)))
    return events


def end_block(state: State, ctx: BlockContext) -> tuple[list[ValidatorUpdate], list[Event]]:
    """The validator updates for consensus and the block's staking events."""
    updates, events = apply_set(state, ctx)
    events += mature(state, ctx)
    return updates, events


