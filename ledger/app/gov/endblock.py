"""The end of each block for governance (x/gov's EndBlocker): proposals whose deposit period
ended are dropped (deposits refunded, or burned if burn_proposal_deposit_prevote); proposals
whose voting period ended are tallied. Deposits are settled before a passed proposal's messages
run (as the SDK): burned on a veto (burn_vote_veto) or a missed quorum (burn_vote_quorum),
refunded otherwise. A passed proposal's messages run in order on a branch of the state, each by
`execute` as the gov account: all succeed -> PASSED and the branch is written with their events;
one fails -> FAILED with its sentence recorded, and none of their changes stand."""

from __future__ import annotations

from collections.abc import Callable

from ...abci import Event
from .. import bank, msgs
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, AppError
from ..state import State
from . import params as gparams
from . import store, tally
from .store import ACTIVE, FAILED, INACTIVE, PASSED, REJECTED

Execute = Callable[[State, msgs.Msg], list[Event]]


def settle_deposits(state: State, pid: int, burn: bool) -> list[Event]:
    gov = bank.module(bank.GOV)
    events: list[Event] = []
    burned = 0
    for depositor, amount in store.deposits(state, pid):
        state.delete(store.deposit_key(pid, depositor))
        if burn:
            burned += amount
        else:
            events += bank.transfer(state, gov, depositor, amount)
    return events + bank.burn(state, bank.GOV, burned)


def _run(state: State, prop: store.Proposal, execute: Execute) -> list[Event]:
    """Run the messages on a branch; on success write it and return its events."""
    branch = state.branch()
    events: list[Event] = []
    for i, wire in enumerate(prop.messages, 1):
        try:
            events += execute(branch, msgs.parse(wire))
        except AppError as e:
            prop.status, prop.failed_reason, prop.failed_message = FAILED, str(e), i
            return []
    branch.write()
    prop.status = PASSED
    return events


def end_block(state: State, ctx: BlockContext, source: tally.TallySource,
              execute: Execute) -> list[Event]:
    p = gparams.load(state)
    events: list[Event] = []
    for pid in store.due(state, INACTIVE, ctx.time):
        prop = store.must_get(state, pid)
        state.delete(store.queue_key(INACTIVE, prop.deposit_end_time, pid))
        events += settle_deposits(state, pid, p.burn_proposal_deposit_prevote)
        state.delete(store.proposal_key(pid))
        events.append(bank.event("inactive_proposal", proposal_id=str(pid),
                                 proposal_result="proposal_dropped"))
    for pid in store.due(state, ACTIVE, ctx.time):
        prop = store.must_get(state, pid)
        state.delete(store.queue_key(ACTIVE, prop.voting_end_time, pid))
        counted = tally.count(state, pid, source)
        outcome = tally.decide(counted, p)
        events += settle_deposits(state, pid, outcome.burn)
        store.delete_votes(state, pid)
        prop.final_tally = counted.to_obj()
        log = outcome.reason
        if outcome.passes:
            events += _run(state, prop, execute)
            if prop.status == FAILED:
                log = f"message {prop.failed_message} failed: {prop.failed_reason}"
        else:
            prop.status = REJECTED
        store.put(state, prop)
        events.append(bank.event("active_proposal", proposal_id=str(pid),
                                 proposal_result=f"proposal_{prop.status}", proposal_log=log))
    return events


def genesis(state: State, section: object, ctx: BlockContext) -> None:
    """The genesis app_state's "gov" section: {"params": {...overrides of the defaults...}}
    (a local federation sets its periods in seconds here)."""
    if section is None:
        section = {}
    if not isinstance(section, dict) or set(section) - {"params"}:
        raise AppError(INVALID_REQUEST, "gov: the section is an object with only params")
    gparams.save(state, gparams.GovParams.from_obj(section.get("params") or {}))
    state.set_int(store.NEXT_ID, 1)
