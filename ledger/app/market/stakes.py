"""Curators' stakes on a listed dataset, their unbonding (paid back by the end-block hook once
`unbonding_blocks` have passed, slashable until then) and governance's slash, which burns the
slashed coins (rather than funding the community pool: a slash punishes, it should not pay the
ones who voted it)."""

from __future__ import annotations

from ...abci import Event
from .. import address, bank
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, AppError
from ..msgs import Msg
from ..state import State
from . import model
from . import params as mparams
from .listings import unbond_all
from .model import LISTED, MAX_UNBONDING_ENTRIES, QUEUE, SLASHED, Listing
from .msgs import MsgSlash, MsgStake, MsgUnstake, check_gov
from .params import BPS


def _event(action: str, dataset_id: str, acct: bytes, amount: int, **more: str) -> Event:
    return bank.event("market_stake", action=action, dataset_id=dataset_id,
                      account=address.to_text(acct), amount=bank.coins(amount), **more)


def handle_stake(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgStake)
    lst = model.must_listing(state, m.dataset_id)
    if lst.status != LISTED:
        raise AppError(INVALID_REQUEST, f"dataset {m.dataset_id!r} is {lst.status}: it takes "
                                        f"no new stake")
    if m.curator == lst.provider:
        raise AppError(INVALID_REQUEST, "a provider's stake on its own dataset is the one of "
                                        "its listing")
    s = model.stakes(state, m.dataset_id)
    most = mparams.load(state).max_curators
    if m.curator not in s.curators and len(s.curators) >= most:
        raise AppError(INVALID_REQUEST, f"dataset {m.dataset_id!r} already has {most} "
                                        f"curators, the most it may have")
    events = bank.transfer(state, m.curator, model.account(), m.amount)
    s.curators[m.curator] = s.curators.get(m.curator, 0) + m.amount
    model.put_stakes(state, m.dataset_id, s)
    return [*events, _event("stake", m.dataset_id, m.curator, m.amount)]


def handle_unstake(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgUnstake)
    model.must_listing(state, m.dataset_id)
    s = model.stakes(state, m.dataset_id)
    have = s.curators.get(m.curator, 0)
    if have < m.amount:
        raise AppError(INVALID_REQUEST, f"{address.to_text(m.curator)} has "
                                        f"{bank.shown(have)} staked on {m.dataset_id!r}, less "
                                        f"than {bank.shown(m.amount)}")
    release = ctx.height + mparams.load(state).unbonding_blocks
    entries = [e for e in s.unbonding if e[0] == m.curator]
    if len(entries) >= MAX_UNBONDING_ENTRIES and all(e[2] != release for e in entries):
        raise AppError(INVALID_REQUEST, f"{address.to_text(m.curator)} already has "
                                        f"{MAX_UNBONDING_ENTRIES} unbonding stakes on "
                                        f"{m.dataset_id!r}; wait for the first to return")
    if have == m.amount:
        del s.curators[m.curator]
    else:
        s.curators[m.curator] = have - m.amount
    model.start_unbonding(state, m.dataset_id, s, m.curator, m.amount, release)
    model.put_stakes(state, m.dataset_id, s)
    return [_event("unstake", m.dataset_id, m.curator, m.amount,
                   release_height=str(release))]


def handle_slash(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    """Take `fraction_bps` of every stake on the dataset (bonded and unbonding, each rounded
    down) and burn it; the listing is marked slashed and what is left starts unbonding."""
    assert isinstance(m, MsgSlash)
    check_gov(m)
    lst = model.must_listing(state, m.dataset_id)
    s = model.stakes(state, m.dataset_id)
    taken: dict[bytes, int] = {}

    def take(acct: bytes, n: int) -> int:
        cut = n * m.fraction_bps // BPS
        taken[acct] = taken.get(acct, 0) + cut
        return n - cut

    s.provider_bonded = take(lst.provider, s.provider_bonded)
    s.curators = {a: left for a, n in sorted(s.curators.items()) if (left := take(a, n)) > 0}
    for e in s.unbonding:
        e[1] = take(e[0], e[1])
    s.unbonding = [e for e in s.unbonding if e[1] > 0]
    model.put_stakes(state, m.dataset_id, s)
    total = sum(taken.values())
    events = bank.burn(state, bank.MARKET, total)
    events += [_event("slash", m.dataset_id, a, n) for a, n in sorted(taken.items()) if n]
    slashed = Listing(lst.dataset_id, lst.provider, lst.provider_did, lst.content_hash,
                      lst.price, lst.contributors, SLASHED, ctx.height, ctx.time)
    unbond_all(state, slashed, ctx)
    model.put_listing(state, slashed)
    events.append(bank.event("market_slash", dataset_id=m.dataset_id,
                             fraction_bps=str(m.fraction_bps), burned=bank.coins(total),
                             reason=m.reason))
    return events


def end_block(state: State, ctx: BlockContext) -> list[Event]:
    """Pay back the unbonding stakes whose release height has come."""
    due = []
    for key, _ in state.items(QUEUE):
        if int.from_bytes(key[len(QUEUE):len(QUEUE) + 8], "big") > ctx.height:
            break
        due.append(key)
    events: list[Event] = []
    for key in due:
        state.delete(key)
        dataset_id = key[len(QUEUE) + 8:].decode()
        s = model.stakes(state, dataset_id)
        keep = []
        for acct, n, release in s.unbonding:
            if release > ctx.height:
                keep.append([acct, n, release])
                continue
            events += bank.transfer(state, model.account(), acct, n)
            events.append(_event("return", dataset_id, acct, n))
        s.unbonding = keep
        model.put_stakes(state, dataset_id, s)
    return events
