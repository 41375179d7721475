"""What staking tells distribution (the SDK's staking hooks), so that rewards follow stake:
every change of a validator's tokens is preceded by closing its reward period."""

from __future__ import annotations

from ...abci import Event
from ..blockctx import BlockContext
from ..staking import store as sstore
from ..staking.store import DEC
from ..state import State
from . import f1, store


def validator_created(state: State, ctx: BlockContext, op: bytes) -> None:
    store.set_historical(state, op, 0, 0)
    store.set_current(state, op, 1, 0)


def before_delegation_change(state: State, ctx: BlockContext, delegator: bytes,
                             op: bytes) -> list[Event]:
    """An existing delegation is settled (its rewards paid); a new one closes the period."""
    if store.starting(state, delegator, op) is not None:
        return f1.withdraw(state, delegator, op)[1]
    f1.increment_period(state, op)
    return []


def after_delegation_change(state: State, ctx: BlockContext, delegator: bytes,
                            op: bytes) -> None:
    if sstore.shares(state, delegator, op) == 0:
        f1.forget(state, delegator, op)
    else:
        f1.start(state, delegator, op, ctx.height)


def before_validator_slashed(state: State, ctx: BlockContext, op: bytes,
                             fraction_dec: int) -> None:
    """A slash ends a period: delegations that began earlier lose the fraction of their
    stake from the next period on."""
    period = f1.increment_period(state, op)
    store.reference(state, op, period, +1)  # kept for as long as the validator exists
    store.add_slash_event(state, op, period, min(fraction_dec, DEC))
