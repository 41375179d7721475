"""Submitting proposals, depositing and voting (x/gov v1's rules).

A proposal waits in its deposit period until its deposits reach `min_deposit` (its voting period
starts at once, even from the initial deposit) or until `max_deposit_period` ends (end_block
drops it). Deposits are accepted during the voting period too, as in the SDK; each deposit is
at least `min_deposit_ratio` of `min_deposit`. Votes are accepted only during the voting period
and a later vote replaces an earlier one. Parameter changes a proposal carries are checked
against the current parameters when it is submitted (the SDK only finds out at execution)."""

from __future__ import annotations

from ...abci import Event
from .. import address, bank
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, AppError
from ..msgs import Msg
from ..params import PPM
from ..state import State
from . import params as gparams
from . import store
from .content import MsgUpdateParams, check_changes
from .msgs import MsgDeposit, MsgSubmitProposal, MsgVote
from .store import (
    ACTIVE,
    DEPOSIT_PERIOD,
    INACTIVE,
    OPTION_NAMES,
    SAID,
    VOTING_PERIOD,
    Proposal,
)


def _ratio(ppm: int) -> str:
    return f"{ppm * 100 // PPM}.{ppm * 100 % PPM:06d}".rstrip("0").rstrip(".") + "%"


def add_deposit(state: State, p: gparams.GovParams, prop: Proposal, depositor: bytes,
                amount: int, ctx: BlockContext) -> list[Event]:
    if prop.status not in (DEPOSIT_PERIOD, VOTING_PERIOD):
        raise AppError(INVALID_REQUEST, f"proposal {prop.id} no longer takes deposits: "
                                        f"{SAID[prop.status]}")
    least = p.min_each_deposit()
    if amount < least:
        raise AppError(INVALID_REQUEST, f"a deposit must be at least {bank.shown(least)} "
                                        f"({_ratio(p.min_deposit_ratio_ppm)} of the minimum "
                                        f"deposit), not {bank.shown(amount)}")
    events = bank.transfer(state, depositor, bank.module(bank.GOV), amount)
    key = store.deposit_key(prop.id, depositor)
    state.set_int(key, state.get_int(key) + amount)
    prop.total_deposit += amount
    pid = str(prop.id)
    events.append(bank.event("proposal_deposit", amount=bank.coins(amount), proposal_id=pid,
                             depositor=address.to_text(depositor)))
    if prop.status == DEPOSIT_PERIOD and prop.total_deposit >= p.min_deposit:
        state.delete(store.queue_key(INACTIVE, prop.deposit_end_time, prop.id))
        prop.status = VOTING_PERIOD
        prop.voting_start_time = ctx.time
        prop.voting_end_time = ctx.time + p.voting_period * 1000
        state.set(store.queue_key(ACTIVE, prop.voting_end_time, prop.id), b"")
        events.append(bank.event("proposal_deposit", voting_period_start=pid))
    store.put(state, prop)
    return events


def handle_submit(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgSubmitProposal)
    p = gparams.load(state)
    least = p.min_initial_deposit()
    if m.initial_deposit < least:
        raise AppError(INVALID_REQUEST, f"the initial deposit must be at least "
                                        f"{bank.shown(least)}, not {bank.shown(m.initial_deposit)}")
    for i, x in enumerate(m.messages, 1):
        if isinstance(x, MsgUpdateParams):  # refused now rather than failing in two days
            try:
                check_changes(state, x)
            except AppError as e:
                raise AppError(e.code, f"message {i} of the proposal: {e}") from e
    prop = Proposal(id=store.next_id(state), messages=[x.to_obj() for x in m.messages],
                    title=m.title, summary=m.summary, metadata=m.metadata, proposer=m.proposer,
                    status=DEPOSIT_PERIOD, submit_time=ctx.time,
                    deposit_end_time=ctx.time + p.max_deposit_period * 1000)
    store.put(state, prop)
    state.set(store.queue_key(INACTIVE, prop.deposit_end_time, prop.id), b"")
    events = [bank.event("submit_proposal", proposal_id=str(prop.id),
                         proposal_messages=",".join(x.type for x in m.messages),
                         proposer=address.to_text(m.proposer))]
    if m.initial_deposit:
        events += add_deposit(state, p, prop, m.proposer, m.initial_deposit, ctx)
    return events


def handle_deposit(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgDeposit)
    prop = store.must_get(state, m.proposal_id)
    return add_deposit(state, gparams.load(state), prop, m.depositor, m.amount, ctx)


def option_text(options: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> str:
    """"yes" for a plain vote; "yes:600000,no:400000" (ppm) for a split one."""
    if len(options) == 1:
        return OPTION_NAMES[options[0][0]]
    return ",".join(f"{OPTION_NAMES[o]}:{w}" for o, w in options)


def handle_vote(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgVote)  # MsgVoteWeighted included
    prop = store.must_get(state, m.proposal_id)
    if prop.status != VOTING_PERIOD:
        raise AppError(INVALID_REQUEST, f"proposal {prop.id} is not in its voting period: "
                                        f"{SAID[prop.status]}")
    state.set(store.vote_key(prop.id, m.voter), store.encode_vote(m.options))
    return [bank.event("proposal_vote", option=option_text(m.options), proposal_id=str(prop.id),
                       voter=address.to_text(m.voter))]
