"""Bonding and unbonding shares of a validator, and the coins that follow them between the
delegator, the bonded pool (bonded validators' tokens) and the not-bonded pool (unbonding and
unbonded validators' tokens, and unbonding entries' balances).

Each change of a delegation tells distribution first (it settles that delegation's rewards and
closes the validator's reward period, since the validator's tokens are about to change), then
after (a new starting point for the delegation), as the SDK's staking hooks."""

from __future__ import annotations

from ...abci import Event
from .. import address, bank
from ..blockctx import BlockContext
from ..state import State
from . import store
from .store import BONDED, DEC, Validator


def pool_of(v: Validator) -> str:
    return bank.BONDED_POOL if v.status == BONDED else bank.NOT_BONDED_POOL


def move_pool(state: State, frm: str, to: str, amount: int) -> list[Event]:
    """Coins between the two pools when stake changes status (no event: internal)."""
    if frm == to or amount == 0:
        return []
    bank.transfer(state, bank.module(frm), bank.module(to), amount)
    return []


def add_tokens(state: State, ctx: BlockContext, delegator: bytes, v: Validator,
               amount: int) -> tuple[Validator, int, list[Event]]:
    """Mint shares of `v` for `amount` tokens to `delegator` (coins are the caller's to move
    into pool_of(v)). Shares round down: the delegator never gets more than it paid for."""
    from ..distribution import hooks

    events = hooks.before_delegation_change(state, ctx, delegator, v.operator)
    v = store.must_validator(state, v.operator)  # the hook may have moved rewards, not tokens
    if v.delegator_shares == 0:
        new = amount * DEC
    else:
        new = amount * v.delegator_shares // v.tokens
    v = v.with_(tokens=v.tokens + amount, delegator_shares=v.delegator_shares + new)
    store.set_validator(state, v)
    store.set_shares(state, delegator, v.operator,
                     store.shares(state, delegator, v.operator) + new)
    hooks.after_delegation_change(state, ctx, delegator, v.operator)
    return v, new, events


def remove_shares(state: State, ctx: BlockContext, delegator: bytes, v: Validator,
                  shares: int) -> tuple[Validator, int, list[Event]]:
    """Burn `shares` of `delegator` in `v`; returns the tokens they were worth (still in
    pool_of(v): the caller moves them). The last shares take all remaining tokens."""
    from ..distribution import hooks

    events = hooks.before_delegation_change(state, ctx, delegator, v.operator)
    v = store.must_validator(state, v.operator)
    tokens = v.tokens if shares == v.delegator_shares else v.tokens_of(shares)
    v = v.with_(tokens=v.tokens - tokens, delegator_shares=v.delegator_shares - shares)
    left = store.shares(state, delegator, v.operator) - shares
    assert left >= 0
    store.set_shares(state, delegator, v.operator, left)
    if delegator == v.operator and not v.jailed and v.tokens_of(left) == 0:
        v = v.with_(jailed=True)  # no self-bond left: out of the set (the SDK's min self-bond)
        events.append(bank.event("jail", validator=address.to_text(v.operator),
                                 reason="no self-delegation"))
    store.set_validator(state, v)
    hooks.after_delegation_change(state, ctx, delegator, v.operator)
    return v, tokens, events


def shares_for(v: Validator, held: int, amount: int) -> int:
    """Shares to remove for `amount` tokens out of `held` shares: rounded up (the delegator
    gives at least what the tokens are worth); all of them if what would remain is worth
    nothing."""
    need = -(-amount * v.delegator_shares // v.tokens)
    need = min(need, held)
    if v.tokens_of(held - need) == 0:
        need = held
    return need
