"""Staking messages, their wire forms and stateless checks (addresses are 20 raw bytes,
amounts integers of ucom, rates in ppm):

  {"type": "staking/create_validator", "operator": addr, "pub_key": 32 bytes, "amount": int,
   "commission_ppm": int, "max_commission_ppm": int, "max_change_ppm": int, "moniker": str}
  {"type": "staking/edit_validator", "operator": addr, "moniker": str | None,
   "commission_ppm": int | None}                          None leaves the field as it is
  {"type": "staking/delegate", "delegator": addr, "validator": addr, "amount": int}
  {"type": "staking/undelegate", "delegator": addr, "validator": addr, "amount": int}
  {"type": "staking/redelegate", "delegator": addr, "src": addr, "dst": addr, "amount": int}
  {"type": "staking/cancel_unbonding", "delegator": addr, "validator": addr, "amount": int,
   "creation_height": int}           delegates back what an unbonding entry still holds"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...crypto import PUBKEY_SIZE
from .. import wire
from ..errors import INVALID_REQUEST, TX_DECODE, AppError
from ..msgs import Msg
from ..params import PPM

MAX_MONIKER = 70


@dataclass(frozen=True)
class MsgCreateValidator(wire.Message):
    operator: bytes
    pub_key: bytes
    amount: int
    commission_ppm: int
    max_commission_ppm: int
    max_change_ppm: int
    moniker: str
    type: ClassVar[str] = "staking/create_validator"

    @property
    def signer(self) -> bytes:
        return self.operator

    def spend(self) -> int:
        return self.amount

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "operator": self.operator, "pub_key": self.pub_key,
                "amount": self.amount, "commission_ppm": self.commission_ppm,
                "max_commission_ppm": self.max_commission_ppm,
                "max_change_ppm": self.max_change_ppm, "moniker": self.moniker}


@dataclass(frozen=True)
class MsgEditValidator(wire.Message):
    operator: bytes
    moniker: str | None
    commission_ppm: int | None
    type: ClassVar[str] = "staking/edit_validator"

    @property
    def signer(self) -> bytes:
        return self.operator

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "operator": self.operator, "moniker": self.moniker,
                "commission_ppm": self.commission_ppm}


@dataclass(frozen=True)
class MsgDelegate(wire.Message):
    delegator: bytes
    validator: bytes
    amount: int
    type: ClassVar[str] = "staking/delegate"

    @property
    def signer(self) -> bytes:
        return self.delegator

    def spend(self) -> int:
        return self.amount

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "delegator": self.delegator, "validator": self.validator,
                "amount": self.amount}


@dataclass(frozen=True)
class MsgUndelegate(wire.Message):
    delegator: bytes
    validator: bytes
    amount: int
    type: ClassVar[str] = "staking/undelegate"

    @property
    def signer(self) -> bytes:
        return self.delegator

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "delegator": self.delegator, "validator": self.validator,
                "amount": self.amount}


@dataclass(frozen=True)
class MsgRedelegate(wire.Message):
    delegator: bytes
    src: bytes
    dst: bytes
    amount: int
    type: ClassVar[str] = "staking/redelegate"

    @property
    def signer(self) -> bytes:
        return self.delegator

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "delegator": self.delegator, "src": self.src,
                "dst": self.dst, "amount": self.amount}


@dataclass(frozen=True)
class MsgCancelUnbonding(wire.Message):
    delegator: bytes
    validator: bytes
    amount: int
    creation_height: int
    type: ClassVar[str] = "staking/cancel_unbonding"

    @property
    def signer(self) -> bytes:
        return self.delegator

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "delegator": self.delegator, "validator": self.validator,
                "amount": self.amount, "creation_height": self.creation_height}


def _rate(v: Any, name: str) -> int:
    n = wire.uint(v, name)
    if n > PPM:
        raise AppError(INVALID_REQUEST, f"{name} must be at most {PPM} (100%)")
    return n


def _moniker(v: Any) -> str:
    return wire.text(v, "moniker", MAX_MONIKER, required=True)


def parse_create(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "operator", "pub_key", "amount", "commission_ppm",
                    "max_commission_ppm", "max_change_ppm", "moniker"})
    if not isinstance(d["pub_key"], bytes) or len(d["pub_key"]) != PUBKEY_SIZE:
        raise AppError(TX_DECODE, "pub_key must be a 32-byte Ed25519 public key")
    return MsgCreateValidator(wire.addr(d["operator"], "operator"), d["pub_key"],
                              wire.uint(d["amount"], "amount", positive=True),
                              _rate(d["commission_ppm"], "commission_ppm"),
                              _rate(d["max_commission_ppm"], "max_commission_ppm"),
                              _rate(d["max_change_ppm"], "max_change_ppm"), _moniker(d["moniker"]))


def parse_edit(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "operator", "moniker", "commission_ppm"})
    moniker = None if d["moniker"] is None else _moniker(d["moniker"])
    rate = None if d["commission_ppm"] is None else _rate(d["commission_ppm"], "commission_ppm")
    return MsgEditValidator(wire.addr(d["operator"], "operator"), moniker, rate)


def parse_delegate(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "delegator", "validator", "amount"})
    return MsgDelegate(wire.addr(d["delegator"], "delegator"),
                       wire.addr(d["validator"], "validator"),
                       wire.uint(d["amount"], "amount", positive=True))


def parse_undelegate(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "delegator", "validator", "amount"})
    return MsgUndelegate(wire.addr(d["delegator"], "delegator"),
                         wire.addr(d["validator"], "validator"),
                         wire.uint(d["amount"], "amount", positive=True))


def parse_redelegate(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "delegator", "src", "dst", "amount"})
    return MsgRedelegate(wire.addr(d["delegator"], "delegator"), wire.addr(d["src"], "src"),
                         wire.addr(d["dst"], "dst"),
                         wire.uint(d["amount"], "amount", positive=True))


def parse_cancel_unbonding(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "delegator", "validator", "amount", "creation_height"})
    return MsgCancelUnbonding(wire.addr(d["delegator"], "delegator"),
                              wire.addr(d["validator"], "validator"),
                              wire.uint(d["amount"], "amount", positive=True),
                              wire.uint(d["creation_height"], "creation_height", positive=True))


def check_create(m: Msg) -> None:
    """The commission's own consistency (the minimum rate is a parameter: checked later)."""
    assert isinstance(m, MsgCreateValidator)
    if m.commission_ppm > m.max_commission_ppm:
        raise AppError(INVALID_REQUEST, f"the commission rate {m.commission_ppm} ppm exceeds "
                                        f"its maximum {m.max_commission_ppm} ppm")
    if m.max_change_ppm > m.max_commission_ppm:
        raise AppError(INVALID_REQUEST, f"the maximum change {m.max_change_ppm} ppm exceeds the "
                                        f"maximum rate {m.max_commission_ppm} ppm")


def check_edit(m: Msg) -> None:
    assert isinstance(m, MsgEditValidator)
    if m.moniker is None and m.commission_ppm is None:
        raise AppError(INVALID_REQUEST, "an edit changes the moniker or the commission rate")


def check_redelegate(m: Msg) -> None:
    assert isinstance(m, MsgRedelegate)
    if m.src == m.dst:
        raise AppError(INVALID_REQUEST, "cannot redelegate to the same validator")


def no_check(m: Msg) -> None:
    """Nothing to check without the state."""
