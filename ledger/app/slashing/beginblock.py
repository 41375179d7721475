"""Slashing at the start of each block: liveness from the last commit's signatures, then
double-sign evidence (the SDK's x/slashing and x/evidence begin blockers).

Liveness: each validator in the last commit that is not jailed records whether it signed
(absent = missed; a nil precommit counts as signed) in a sliding window. Past its first
window, a validator that missed more than the window tolerates is slashed (downtime
fraction, at the stake of two blocks earlier, as the SDK's distribution height), jailed until
now + downtime_jail_duration, and its window starts over.

Double sign (duplicate vote, or a light-client attack): the stake at the infraction height is
slashed by the double-sign fraction, and the validator is jailed forever and tombstoned; only
its first punishment counts. A jailed validator leaves the set at the next end of block, so
consensus drops it at H+2."""

from __future__ import annotations

from ...abci import BLOCK_ID_FLAG_ABSENT, MISBEHAVIOR_DUPLICATE_VOTE, CommitInfo, Event, Misbehavior
from .. import address, bank
from ..blockctx import BlockContext
from ..staking import slash as sslash
from ..staking import store as sstore
from ..state import State
from . import store
from .params import SlashingParams
from .store import FOREVER, SigningInfo

MISBEHAVIOR_LIGHT_CLIENT_ATTACK = 2


def begin_block(state: State, ctx: BlockContext, last_commit: CommitInfo,
                misbehavior: tuple[Misbehavior, ...] = ()) -> list[Event]:
    p = SlashingParams.load(state)
    events: list[Event] = []
    for vote in last_commit.votes:
        events += _liveness(state, ctx, p, vote.validator_address,
                            vote.block_id_flag == BLOCK_ID_FLAG_ABSENT)
    for m in misbehavior:
        if m.type in (MISBEHAVIOR_DUPLICATE_VOTE, MISBEHAVIOR_LIGHT_CLIENT_ATTACK):
            events += double_sign(state, ctx, p, m.validator_address, m.height)
    return events


def _liveness(state: State, ctx: BlockContext, p: SlashingParams, cons: bytes,
              missed: bool) -> list[Event]:
    v = sstore.by_cons(state, cons)
    if v is None or v.jailed:
        return []
    info = store.get(state, cons) or SigningInfo(ctx.height)
    window = p.signed_blocks_window
    if info.window != window:  # a new window size starts the count over (as the SDK)
        info = info.with_(index_offset=0, missed=bytes((window + 7) // 8), missed_count=0,
                          window=window)
    i = info.index_offset % window
    was = store.bit(info.missed, i)
    count = info.missed_count + (missed and not was) - (was and not missed)
    info = info.with_(index_offset=info.index_offset + 1, missed_count=count,
                      missed=store.set_bit(info.missed, i, missed))
    events = []
    if missed:
        events.append(bank.event("liveness", address=cons.hex().upper(),
                                 missed_blocks=str(count), height=str(ctx.height)))
    if ctx.height > info.start_height + window and count > p.max_missed():
        _, more = sslash.slash(state, ctx, v.operator, max(ctx.height - 2, 0),
                               p.slash_fraction_downtime_ppm)
        events += more + sslash.jail(state, v.operator)
        info = info.with_(jailed_until=ctx.time + p.downtime_jail_duration * 1000,
                          index_offset=0, missed=bytes((window + 7) // 8), missed_count=0)
        events.append(bank.event("slash", address=cons.hex().upper(), reason="missing_signature",
                                 jailed=address.to_text(v.operator)))
    store.put(state, cons, info)
    return events


def double_sign(state: State, ctx: BlockContext, p: SlashingParams, cons: bytes,
                height: int) -> list[Event]:
    v = sstore.by_cons(state, cons)
    if v is None:
        return []  # not a validator we know (evidence about a key never bonded here)
    info = store.get(state, cons) or SigningInfo(ctx.height)
    if info.tombstoned or v.tombstoned:
        return []  # only the first double-sign is punished
    _, events = sslash.slash(state, ctx, v.operator, height, p.slash_fraction_double_sign_ppm)
    events += sslash.jail(state, v.operator)
    sslash.tombstone(state, v.operator)
    store.put(state, cons, info.with_(jailed_until=FOREVER, tombstoned=True))
    events.append(bank.event("slash", address=cons.hex().upper(), reason="double_sign",
                             jailed=address.to_text(v.operator)))
    return events
