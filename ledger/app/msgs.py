"""Message types and their stateless checks (the SDK's ValidateBasic).

On the wire a message is a dict with a "type"; addresses are 20 raw bytes, amounts integers in
ucom:
  {"type": "bank/send", "from": addr, "to": addr, "amount": n}
  {"type": "bank/multi_send", "inputs": [{"address": addr, "amount": n}],
                              "outputs": [{"address": addr, "amount": n}, ...]}
A multi-send has exactly one input (as the SDK since v0.46) and inputs equal outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from . import wire
from .errors import INVALID_REQUEST, TX_DECODE, UNKNOWN_REQUEST, AppError
from .params import Params

MAX_OUTPUTS = 1000


class Msg(Protocol):
    """What every message type provides (a module adds its own with `register`)."""

    type: ClassVar[str]

    @property
    def signer(self) -> bytes: ...
    def spend(self) -> int: ...  # ucom it takes from the signer, for CheckTx's funds check
    def gas(self, params: Params) -> int: ...
    def to_obj(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class MsgSend:
    sender: bytes
    recipient: bytes
    amount: int
    type: ClassVar[str] = "bank/send"

    @property
    def signer(self) -> bytes:
        return self.sender

    def spend(self) -> int:
        return self.amount

    def gas(self, params: Params) -> int:
        return params.gas[self.type]

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "from": self.sender, "to": self.recipient,
                "amount": self.amount}


@dataclass(frozen=True)
class MsgMultiSend:
    sender: bytes
    amount: int
    outputs: tuple[tuple[bytes, int], ...]
    type: ClassVar[str] = "bank/multi_send"

    @property
    def signer(self) -> bytes:
        return self.sender

    def spend(self) -> int:
        return self.amount

    def gas(self, params: Params) -> int:
        return params.gas[self.type] + params.gas["bank/multi_send_output"] * len(self.outputs)

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "inputs": [{"address": self.sender, "amount": self.amount}],
                "outputs": [{"address": a, "amount": n} for a, n in self.outputs]}


def gas(msg: Msg, params: Params) -> int:
    return msg.gas(params)


def parse(d: Any) -> Msg:
    """A message from its wire form; AppError(TX_DECODE or INVALID_*) with the reason."""
    if not isinstance(d, dict) or not isinstance(d.get("type"), str):
        raise AppError(TX_DECODE, "a message is an object with a type")
    parser = PARSERS.get(d["type"])
    if parser is None:
        raise AppError(UNKNOWN_REQUEST, f"unknown message type {d['type'][:64]!r}")
    return parser(d)


def _parse_send(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "from", "to", "amount"})
    return MsgSend(wire.addr(d["from"], "from"), wire.addr(d["to"], "to"), _amount(d["amount"]))


def _parse_multi_send(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "inputs", "outputs"})
    ins, outs = _entries(d["inputs"], "inputs"), _entries(d["outputs"], "outputs")
    if len(ins) != 1:
        raise AppError(INVALID_REQUEST, "a multi-send has exactly one input")
    if not outs or len(outs) > MAX_OUTPUTS:
        raise AppError(INVALID_REQUEST, f"a multi-send has 1 to {MAX_OUTPUTS} outputs")
    total = sum(n for _, n in outs)
    if total != ins[0][1]:
        raise AppError(INVALID_REQUEST, f"multi-send inputs and outputs differ: "
                                        f"{ins[0][1]} ucom in, {total} ucom out")
    return MsgMultiSend(ins[0][0], ins[0][1], tuple(outs))


PARSERS: dict[str, Callable[[dict[str, Any]], Msg]] = {
    MsgSend.type: _parse_send,
    MsgMultiSend.type: _parse_multi_send,
}


def register(type_: str, parser: Callable[[dict[str, Any]], Msg]) -> None:
    """Add a module's message type (its handler goes to `deliver.HANDLERS`)."""
    assert type_ not in PARSERS, type_
    PARSERS[type_] = parser


def _amount(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise AppError(INVALID_REQUEST, "an amount is a positive integer of ucom")
    return v


def _entries(v: Any, name: str) -> list[tuple[bytes, int]]:
    if not isinstance(v, list):
        raise AppError(TX_DECODE, f"{name} must be a list")
    out = []
    for e in v:
        if not isinstance(e, dict) or set(e) != {"address", "amount"}:
            raise AppError(TX_DECODE, f"each of {name} is an object with address and amount")
        out.append((wire.addr(e["address"], "address"), _amount(e["amount"])))
    return out
