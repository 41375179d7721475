"""The application's modules wired together (the SDK's module manager): each module's message
routes (their gas is in `gas.py`), the parameters governance may change, and the block hooks in the SDK's order
(`begin_block`, `end_block`). Genesis sections are read in `genesis.py`, queries in `query.py`.

A route is (parser, stateless check, handler(state, msg, block)): the parser turns a message's
wire form into its dataclass (`msgs.parse`), the check runs in CheckTx too, the handler only in
the block."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..abci import Event, RequestFinalizeBlock, ValidatorUpdate
from . import bank, distribution, gov, market, mint, msgs, params, registry, slashing, staking
from .blockctx import BlockContext
from .state import State

Parser = Callable[[dict[str, Any]], msgs.Msg]
Check = Callable[[msgs.Msg], None]
Handle = Callable[[State, msgs.Msg, BlockContext], list[Event]]
Route = tuple[Parser, Check, Handle]


def _send(state: State, m: msgs.Msg, block: BlockContext) -> list[Event]:
    assert isinstance(m, msgs.MsgSend)
    return bank.send(state, m.sender, m.recipient, m.amount)


def _check_send(m: msgs.Msg) -> None:
    assert isinstance(m, msgs.MsgSend)
    bank.check_recipient(m.recipient)


def _multi_send(state: State, m: msgs.Msg, block: BlockContext) -> list[Event]:
    assert isinstance(m, msgs.MsgMultiSend)
    return bank.multi_send(state, m.sender, m.amount, m.outputs)


def _check_multi_send(m: msgs.Msg) -> None:
    assert isinstance(m, msgs.MsgMultiSend)
    for r, _ in m.outputs:
        bank.check_recipient(r)


BANK_ROUTES: dict[str, Route] = {
    msgs.MsgSend.type: (msgs.PARSERS[msgs.MsgSend.type], _check_send, _send),
    msgs.MsgMultiSend.type: (msgs.PARSERS[msgs.MsgMultiSend.type], _check_multi_send,
                             _multi_send),
}
MODULES: dict[str, dict[str, Route]] = {
    "bank": BANK_ROUTES, "staking": staking.ROUTES, "slashing": slashing.ROUTES,
    "distribution": distribution.ROUTES, "gov": gov.ROUTES, "registry": registry.ROUTES,
    "market": market.ROUTES,
}

ROUTES: dict[str, tuple[str, Route]] = {}  # message type -> (module, route)
for _name, _routes in MODULES.items():
    for _type, _route in _routes.items():
        ROUTES[_type] = (_name, _route)
        if _type not in msgs.PARSERS:
            msgs.register(_type, _route[0])

# Whose parameters governance may change (gov's own are there from the start).
gov.PARAM_MODULES.update({
    "auth": gov.ParamModuleOf(params.load, params.Params.from_obj, params.save),
    "staking": gov.ParamModuleOf(staking.params.load, staking.params.from_obj,
                                 staking.params.save),
    "slashing": gov.ParamModuleOf(slashing.SlashingParams.load, slashing.SlashingParams.from_obj,
                                  lambda state, p: p.save(state)),
    "distribution": gov.ParamModuleOf(distribution.params.load, distribution.params.from_obj,
                                      distribution.params.save),
    "mint": gov.ParamModuleOf(mint.load_params, mint.MintParams.from_obj, mint.save_params),
    "market": gov.ParamModuleOf(market.params.load, market.params.from_obj, market.params.save),
})


def begin_block(state: State, block: BlockContext, req: RequestFinalizeBlock) -> list[Event]:
    """Before the transactions: new coins, then last block's fees and rewards shared among its
    signers, then downtime and double-sign punishments (a slash after the rewards it earned)."""
    events = mint.begin_block(state, block)
    events += distribution.begin_block(state, block, req.decided_last_commit)
    events += slashing.begin_block(state, block, req.decided_last_commit, req.misbehavior)
    return events


def end_block(state: State, block: BlockContext,
              execute: Callable[[State, msgs.Msg], list[Event]],
              ) -> tuple[list[ValidatorUpdate], list[Event]]:
    """After the transactions: proposals whose periods ended (passed ones run their messages
    through `execute`), the market's matured unbonding stakes (after gov, so a slash passed
    in this block takes its share first), then the staking set, whose changes go to
    consensus."""
    events = gov.end_block(state, block, staking.tally_source(state), execute)
    events += market.end_block(state, block)
    updates, more = staking.end_block(state, block)
    return updates, events + more
