"""Running one transaction on a state: decode (memoized), ante (fee and sequence), then its
messages on a branch. As in the SDK, a failing message reverts all of the transaction's
messages while the fee and the sequence increment stand; a failing ante changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..abci import Event, ExecTxResult
from . import address, auth, bank, msgs
from .errors import CODESPACE, UNKNOWN_REQUEST, AppError
from .params import Params
from .state import State
from .tx import ParseCache

Handler = Callable[[State, msgs.Msg], list[Event]]


def _send(state: State, m: msgs.Msg) -> list[Event]:
    assert isinstance(m, msgs.MsgSend)
    return bank.send(state, m.sender, m.recipient, m.amount)


def _multi_send(state: State, m: msgs.Msg) -> list[Event]:
    assert isinstance(m, msgs.MsgMultiSend)
    return bank.multi_send(state, m.sender, m.amount, m.outputs)


HANDLERS: dict[str, tuple[str, Handler]] = {
    msgs.MsgSend.type: ("bank", _send),
    msgs.MsgMultiSend.type: ("bank", _multi_send),
}


@dataclass
class Context:
    chain_id: str
    params: Params
    cache: ParseCache


def failed(e: AppError, gas_wanted: int = 0, gas_used: int = 0,
           events: tuple[Event, ...] = ()) -> ExecTxResult:
    return ExecTxResult(e.code, b"", str(e), gas_wanted, gas_used, events, CODESPACE)


def run_tx(state: State, raw: bytes, ctx: Context, check: bool = False) -> ExecTxResult:
    try:
        tx = ctx.cache.get(raw, ctx.params)
    except AppError as e:
        return failed(e)
    gas = tx.gas(ctx.params)
    ante = state.branch()
    try:
        events = auth.ante(ante, tx, ctx.params, ctx.chain_id, check)
    except AppError as e:
        return failed(e, gas)
    ante.write()
    branch = state.branch()
    msg_events: list[Event] = []
    try:
        for m in tx.msgs:
            if m.type not in HANDLERS:
                raise AppError(UNKNOWN_REQUEST, f"no handler for message type {m.type}")
            module, handle = HANDLERS[m.type]
            msg_events.append(bank.event("message", action=m.type,
                                         sender=address.to_text(m.signer), module=module))
            msg_events += handle(branch, m)
    except AppError as e:
        return failed(e, gas, gas, tuple(events))
    branch.write()
    return ExecTxResult(0, b"", "", gas, gas, tuple(events + msg_events))
