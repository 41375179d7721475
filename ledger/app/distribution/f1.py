"""F1 fee distribution (the SDK's lazy scheme): a validator's delegator rewards accumulate in
its current period; closing a period (before any change of the validator's tokens) adds
rewards / tokens to a cumulative ratio. A delegation's rewards are then its stake times the
growth of that ratio since it started, with its stake reduced by each slash in between.

All divisions truncate toward the pool: the ratio, the stake after a slash (fractions are
rounded up) and the rewards; what truncation leaves stays in the validator's outstanding
rewards and is never paid twice."""

from __future__ import annotations

from ...abci import Event
from .. import address, bank
from ..staking import store as sstore
from ..staking.store import DEC
from ..state import State
from . import store


def increment_period(state: State, op: bytes) -> int:
    """Close the validator's current period; returns the period closed."""
    period, rewards = store.current(state, op)
    v = sstore.must_validator(state, op)
    if v.tokens == 0:
        # No stake to pay: the period's rewards go to the community pool (as the SDK's).
        inc = 0
        if rewards:
            _pay(state, op, bank.module(bank.COMMUNITY_POOL), rewards)
    else:
        inc = rewards * DEC // v.tokens
    store.set_historical(state, op, period, store.historical(state, op, period - 1) + inc)
    store.reference(state, op, period - 1, -1)  # no longer the current period's base
    store.set_current(state, op, period + 1, 0)
    return period


def _pay(state: State, op: bytes, to: bytes, amount: int) -> list[Event]:
    """Pay `amount` of the validator's outstanding rewards out of the distribution account."""
    state.set_int(store.OUTSTANDING + op, state.get_int(store.OUTSTANDING + op) - amount)
    return bank.transfer(state, bank.module(bank.DISTRIBUTION), to, amount)


def rewards_between(state: State, op: bytes, start: int, end: int, stake: int) -> int:
    return stake * (store.historical(state, op, end) - store.historical(state, op, start)) // DEC


def delegation_rewards(state: State, delegator: bytes, op: bytes, end: int) -> int:
    """What the delegation earned from its start to the end of period `end` (closed)."""
    info = store.starting(state, delegator, op)
    if info is None:
        return 0
    start, stake, _ = info
    total = 0
    for period, fraction in store.slash_events(state, op, start, end):
        total += rewards_between(state, op, start, period, stake)
        stake = stake * (DEC - fraction) // DEC
        start = period
    v = sstore.must_validator(state, op)
    stake = min(stake, v.tokens_of(sstore.shares(state, delegator, op)))
    return total + rewards_between(state, op, start, end, stake)


def pending_rewards(state: State, delegator: bytes, op: bytes) -> int:
    """What a withdrawal would pay now, computed without changing anything (a branch that is
    thrown away)."""
    if store.starting(state, delegator, op) is None:
        return 0
    branch = state.branch()
    return delegation_rewards(branch, delegator, op, increment_period(branch, op))


def withdraw(state: State, delegator: bytes, op: bytes) -> tuple[int, list[Event]]:
    """Settle the delegation: close the period, pay what it earned to the withdraw address and
    forget its start (the caller starts it again if shares remain)."""
    end = increment_period(state, op)
    amount = delegation_rewards(state, delegator, op, end)
    forget(state, delegator, op)
    events = _pay(state, op, store.withdraw_address(state, delegator), amount)
    events.append(bank.event("withdraw_rewards", amount=bank.coins(amount),
                             validator=address.to_text(op),
                             delegator=address.to_text(delegator)))
    return amount, events


def start(state: State, delegator: bytes, op: bytes, height: int) -> None:
    """A delegation's rewards start at the end of the last closed period."""
    from ...encoding import encode

    forget(state, delegator, op)
    period, _ = store.current(state, op)
    v = sstore.must_validator(state, op)
    stake = v.tokens_of(sstore.shares(state, delegator, op))
    state.set(store.STARTING + delegator + op, encode([period - 1, stake, height]))
    store.reference(state, op, period - 1, +1)


def forget(state: State, delegator: bytes, op: bytes) -> None:
    """The delegation's starting point is gone (settled, or the delegation ended)."""
    info = store.starting(state, delegator, op)
    if info is not None:
        state.delete(store.STARTING + delegator + op)
        store.reference(state, op, info[0], -1)
