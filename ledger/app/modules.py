"""The application's modules wired together (the SDK's module manager): each module's message
routes and gas, and the parameters governance may change. Block hooks run in `app.py` in the
SDK's order; genesis sections in `genesis.py`; queries in `query.py`.

A route is (parser, stateless check, handler(state, msg, block)): the parser turns a message's
wire form into its dataclass (`msgs.parse`), the check runs in CheckTx too, the handler only in
the block."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..abci import Event
from . import bank, gov, msgs, params, registry
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
BANK_GAS = {"bank/send": 2000, "bank/multi_send": 2000, "bank/multi_send_output": 500}

MODULES: dict[str, tuple[dict[str, Route], dict[str, int]]] = {
    "bank": (BANK_ROUTES, BANK_GAS),
    "gov": (gov.ROUTES, gov.DEFAULT_GAS),
    "registry": (registry.ROUTES, registry.DEFAULT_GAS),
}

ROUTES: dict[str, tuple[str, Route]] = {}  # message type -> (module, route)
DEFAULT_GAS: dict[str, int] = {}
for _name, (_routes, _gas) in MODULES.items():
    DEFAULT_GAS.update(_gas)
    for _type, _route in _routes.items():
        ROUTES[_type] = (_name, _route)
        if _type not in msgs.PARSERS:
            msgs.register(_type, _route[0])

gov.PARAM_MODULES["auth"] = gov.ParamModuleOf(params.load, params.Params.from_obj, params.save)
