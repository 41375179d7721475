"""Slashing a validator's stake, as the SDK's: the stake "follows" the infraction, so besides
the validator's current tokens, unbonding delegations and redelegations away from it that began
at or after the infraction height lose the same fraction of their initial balance (capped by
what is left). Slashed coins are burned from the pool that holds them. Jailing only flags the
validator: it leaves the bonded set at the next end of block."""

from __future__ import annotations

from ...abci import Event
from .. import address, bank
from ..blockctx import BlockContext
from ..params import PPM
from ..state import State
from . import keeper, store
from .store import DEC, Validator


def slash(state: State, ctx: BlockContext, operator: bytes, infraction_height: int,
          fraction_ppm: int) -> tuple[int, list[Event]]:
    """Burn `fraction_ppm` of the stake `operator` had at `infraction_height`; returns the
    ucom burned and the events."""
    from ..distribution import hooks

    v = store.must_validator(state, operator)
    burned = 0
    events: list[Event] = []
    n = len(store.UBD_BY_VAL) + 20
    for k, _ in list(state.items(store.UBD_BY_VAL + operator)):
        burned += _slash_unbonding(state, k[n:], operator, infraction_height, fraction_ppm)
    n = len(store.RED_BY_SRC) + 20
    for k, _ in list(state.items(store.RED_BY_SRC + operator)):
        delegator, dst = k[n:n + 20], k[n + 20:n + 40]
        got, more = _slash_redelegation(state, ctx, delegator, operator, dst,
                                        infraction_height, fraction_ppm)
        burned += got
        events += more
    v = store.must_validator(state, operator)
    cut = v.tokens * fraction_ppm // PPM
    if cut > 0:
        hooks.before_validator_slashed(state, ctx, operator, -(-cut * DEC // v.tokens))
        v = store.must_validator(state, operator)
        store.set_validator(state, v.with_(tokens=v.tokens - cut))
        events += bank.burn(state, keeper.pool_of(v), cut)
        burned += cut
    events.append(bank.event("slash", address=address.to_text(operator),
                             burned_coins=bank.coins(burned)))
    return burned, events


def _slash_unbonding(state: State, delegator: bytes, operator: bytes, height: int,
                     fraction_ppm: int) -> int:
    key = store.ubd_key(delegator, operator)
    es = store.entries(state, key)
    total = 0
    for e in es:
        if e[0] < height:
            continue  # began before the infraction: that stake did not take part
        cut = min(e[2] * fraction_ppm // PPM, e[3])
        e[3] -= cut
        total += cut
    store.set_entries(state, key, es)
    bank.burn(state, bank.NOT_BONDED_POOL, total)
    return total


def _slash_redelegation(state: State, ctx: BlockContext, delegator: bytes, src: bytes,
                        dst: bytes, height: int, fraction_ppm: int) -> tuple[int, list[Event]]:
    """The stake moved to `dst` after the infraction: unbond the fraction of the shares it
    received there and burn their tokens."""
    total = 0
    events: list[Event] = []
    for e in store.entries(state, store.red_key(delegator, src, dst)):
        if e[0] < height:
            continue
        held = store.shares(state, delegator, dst)
        cut_shares = min(e[3] * fraction_ppm // PPM, held)
        if cut_shares == 0:
            continue
        v: Validator = store.must_validator(state, dst)
        pool = keeper.pool_of(v)
        v, tokens, more = keeper.remove_shares(state, ctx, delegator, v, cut_shares)
        events += more + bank.burn(state, pool, tokens)
        total += tokens
    return total, events


def jail(state: State, operator: bytes) -> list[Event]:
    v = store.must_validator(state, operator)
    if v.jailed:
        return []
    store.set_validator(state, v.with_(jailed=True))
    return [bank.event("jail", validator=address.to_text(operator))]


def unjail(state: State, operator: bytes) -> None:
    store.set_validator(state, store.must_validator(state, operator).with_(jailed=False))


def tombstone(state: State, operator: bytes) -> None:
    store.set_validator(state, store.must_validator(state, operator).with_(tombstoned=True))
