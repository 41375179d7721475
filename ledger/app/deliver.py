"""Running one transaction on a state: decode (memoized), ante (fee and sequence), then its
messages on a branch. As in the SDK, a failing message reverts all of the transaction's
messages while the fee and the sequence increment stand; a failing ante changes nothing.

CheckTx (`check`) runs, as the SDK's, the ante handler and each message's stateless checks, not
the messages: the ante takes the fee and everything the messages spend from the signer in the
check state, so the next transactions of that signer are checked against what is left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ..abci import Event, ExecTxResult
from . import address, auth, bank, msgs
from .errors import CODESPACE, UNKNOWN_REQUEST, AppError
from .params import Params
from .state import State
from .tx import ParseCache


class Route(NamedTuple):
    module: str
    check: Callable[[msgs.Msg], None]  # refusals known without the state (AppError)
    handle: Callable[[State, msgs.Msg], list[Event]]


def _send(state: State, m: msgs.Msg) -> list[Event]:
    assert isinstance(m, msgs.MsgSend)
    return bank.send(state, m.sender, m.recipient, m.amount)


def _check_send(m: msgs.Msg) -> None:
    assert isinstance(m, msgs.MsgSend)
    bank.check_recipient(m.recipient)


def _multi_send(state: State, m: msgs.Msg) -> list[Event]:
    assert isinstance(m, msgs.MsgMultiSend)
    return bank.multi_send(state, m.sender, m.amount, m.outputs)


def _check_multi_send(m: msgs.Msg) -> None:
    assert isinstance(m, msgs.MsgMultiSend)
    for r, _ in m.outputs:
        bank.check_recipient(r)


HANDLERS: dict[str, Route] = {
    msgs.MsgSend.type: Route("bank", _check_send, _send),
    msgs.MsgMultiSend.type: Route("bank", _check_multi_send, _multi_send),
}


@dataclass
class Context:
    chain_id: str
    params: Params
    cache: ParseCache


def failed(e: AppError, gas_wanted: int = 0, gas_used: int = 0,
           events: tuple[Event, ...] = ()) -> ExecTxResult:
    return ExecTxResult(e.code, b"", str(e), gas_wanted, gas_used, events, CODESPACE)


def _route(m: msgs.Msg) -> Route:
    route = HANDLERS.get(m.type)
    if route is None:
        raise AppError(UNKNOWN_REQUEST, f"no handler for message type {m.type}")
    return route


def run_tx(state: State, raw: bytes, ctx: Context, check: bool = False) -> ExecTxResult:
    try:
        tx = ctx.cache.get(raw, ctx.params)
    except AppError as e:
        return failed(e)
    gas = tx.gas(ctx.params)
    if check:
        try:
            for m in tx.msgs:
                _route(m).check(m)
            auth.ante(state, tx, ctx.params, ctx.chain_id, check=True)
        except AppError as e:
            return failed(e, gas)
        return ExecTxResult(0, b"", "", gas, gas)
    ante = state.branch()
    try:
        events = auth.ante(ante, tx, ctx.params, ctx.chain_id, check=False)
    except AppError as e:
        return failed(e, gas)
    ante.write()
    branch = state.branch()
    msg_events: list[Event] = []
    try:
        for m in tx.msgs:
            route = _route(m)
            msg_events.append(bank.event("message", action=m.type,
                                         sender=address.to_text(m.signer), module=route.module))
            msg_events += route.handle(branch, m)
    except AppError as e:
        return failed(e, gas, gas, tuple(events))
    branch.write()
    return ExecTxResult(0, b"", "", gas, gas, tuple(events + msg_events))
