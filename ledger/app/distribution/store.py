"""Distribution's records (all keys under b"dst/"; integers are ucom unless said):

  dst/cur/ operator(20)             -> [period, rewards]: the open period and the delegators'
                                       rewards it has accumulated
  dst/his/ operator(20) period(8)   -> [cumulative reward per token up to the end of `period`
                                       scaled by DEC (10^18), reference count]
  dst/out/ operator(20)             -> outstanding: allocated to the validator, not yet paid
                                       (its commission and its delegators' rewards)
  dst/com/ operator(20)             -> accumulated commission (part of outstanding)
  dst/slh/ operator(20)             -> [[period, fraction], ...]: each slash, the period it
                                       ended and the fraction of the validator's tokens it
                                       took (scaled by DEC, rounded up)
  dst/del/ delegator(20) operator(20) -> [previous period, stake in tokens, height]: where the
                                       delegation's unpaid rewards start
  dst/wa/  delegator(20)            -> withdraw address (absent: the delegator itself)"""

from __future__ import annotations

from ...encoding import decode, encode
from ..state import State

CURRENT, HISTORICAL, OUTSTANDING, COMMISSION = b"dst/cur/", b"dst/his/", b"dst/out/", b"dst/com/"
SLASH_EVENT, STARTING, WITHDRAW_ADDR = b"dst/slh/", b"dst/del/", b"dst/wa/"


def b8(n: int) -> bytes:
    return n.to_bytes(8, "big")


def current(state: State, op: bytes) -> tuple[int, int]:
    raw = state.get(CURRENT + op)
    if raw is None:
        return 1, 0
    period, rewards = decode(raw)
    return period, rewards


def set_current(state: State, op: bytes, period: int, rewards: int) -> None:
    state.set(CURRENT + op, encode([period, rewards]))


def historical(state: State, op: bytes, period: int) -> int:
    raw = state.get(HISTORICAL + op + b8(period))
    assert raw is not None, f"historical rewards of period {period} were pruned while in use"
    ratio: int = decode(raw)[0]
    return ratio


def set_historical(state: State, op: bytes, period: int, ratio: int) -> None:
    """A closed period's ratio, referenced once (by the validator's current period)."""
    state.set(HISTORICAL + op + b8(period), encode([ratio, 1]))


def reference(state: State, op: bytes, period: int, delta: int) -> None:
    """Count one more (+1) or one less (-1) user of a period's ratio: the current period,
    delegations that start there, slashes that ended it. Unused ratios are deleted (the SDK's
    reference counting), so the store keeps only what some reward computation needs."""
    key = HISTORICAL + op + b8(period)
    raw = state.get(key)
    assert raw is not None
    ratio, refs = decode(raw)
    if refs + delta <= 0:
        state.delete(key)
    else:
        state.set(key, encode([ratio, refs + delta]))


def starting(state: State, delegator: bytes, op: bytes) -> tuple[int, int, int] | None:
    raw = state.get(STARTING + delegator + op)
    if raw is None:
        return None
    period, stake, height = decode(raw)
    return period, stake, height


def slash_events(state: State, op: bytes, after: int, upto: int) -> list[tuple[int, int]]:
    """(period, fraction) of the slashes that ended a period in (after, upto], in order."""
    raw = state.get(SLASH_EVENT + op)
    events = [] if raw is None else decode(raw)
    return [(p, f) for p, f in events if after < p <= upto]


def add_slash_event(state: State, op: bytes, period: int, fraction: int) -> None:
    """One key per validator (slashes are rare; a delegation's settlement reads it with one
    get instead of iterating a prefix)."""
    raw = state.get(SLASH_EVENT + op)
    events = [] if raw is None else decode(raw)
    state.set(SLASH_EVENT + op, encode([*events, [period, fraction]]))


def withdraw_address(state: State, delegator: bytes) -> bytes:
    return state.get(WITHDRAW_ADDR + delegator) or delegator
