"""Distribution messages and their handlers:

  {"type": "distribution/withdraw_rewards", "delegator": addr, "validator": addr}
  {"type": "distribution/withdraw_commission", "operator": addr}
  {"type": "distribution/set_withdraw_address", "delegator": addr, "withdraw_address": addr}

Rewards and commission are paid to the withdraw address (the account itself by default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...abci import Event
from .. import address, bank, wire
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, NOT_FOUND, AppError
from ..msgs import Msg
from ..staking import store as sstore
from ..state import State
from . import f1, store
from . import params as dparams


@dataclass(frozen=True)
class MsgWithdrawRewards(wire.Message):
    delegator: bytes
    validator: bytes
    type: ClassVar[str] = "distribution/withdraw_rewards"

    @property
    def signer(self) -> bytes:
        return self.delegator

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "delegator": self.delegator, "validator": self.validator}


@dataclass(frozen=True)
class MsgWithdrawCommission(wire.Message):
    operator: bytes
    type: ClassVar[str] = "distribution/withdraw_commission"

    @property
    def signer(self) -> bytes:
        return self.operator

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "operator": self.operator}


@dataclass(frozen=True)
class MsgSetWithdrawAddress(wire.Message):
    delegator: bytes
    withdraw_address: bytes
    type: ClassVar[str] = "distribution/set_withdraw_address"

    @property
    def signer(self) -> bytes:
        return self.delegator

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "delegator": self.delegator,
                "withdraw_address": self.withdraw_address}


def parse_withdraw_rewards(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "delegator", "validator"})
    return MsgWithdrawRewards(wire.addr(d["delegator"], "delegator"),
                              wire.addr(d["validator"], "validator"))


def parse_withdraw_commission(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "operator"})
    return MsgWithdrawCommission(wire.addr(d["operator"], "operator"))


def parse_set_withdraw_address(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "delegator", "withdraw_address"})
    return MsgSetWithdrawAddress(wire.addr(d["delegator"], "delegator"),
                                 wire.addr(d["withdraw_address"], "withdraw_address"))


def no_check(m: Msg) -> None:
    """Nothing to check without the state."""


def check_set_withdraw_address(m: Msg) -> None:
    assert isinstance(m, MsgSetWithdrawAddress)
    bank.check_recipient(m.withdraw_address)


def _t(a: bytes) -> str:
    return address.to_text(a)


def handle_withdraw_rewards(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgWithdrawRewards)
    sstore.must_validator(state, m.validator)
    if sstore.shares(state, m.delegator, m.validator) == 0:
        raise AppError(NOT_FOUND, f"{_t(m.delegator)} has no delegation to {_t(m.validator)}")
    _, events = f1.withdraw(state, m.delegator, m.validator)
    f1.start(state, m.delegator, m.validator, ctx.height)
    return events


def handle_withdraw_commission(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgWithdrawCommission)
    sstore.must_validator(state, m.operator)
    amount = state.get_int(store.COMMISSION + m.operator)
    if amount == 0:
        raise AppError(INVALID_REQUEST, f"validator {_t(m.operator)} has no commission to "
                                        f"withdraw")
    state.delete(store.COMMISSION + m.operator)
    state.set_int(store.OUTSTANDING + m.operator,
                  state.get_int(store.OUTSTANDING + m.operator) - amount)
    to = store.withdraw_address(state, m.operator)
    events = bank.transfer(state, bank.module(bank.DISTRIBUTION), to, amount)
    return events + [bank.event("withdraw_commission", amount=bank.coins(amount),
                                validator=_t(m.operator))]


def handle_set_withdraw_address(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgSetWithdrawAddress)
    if not dparams.load(state).withdraw_addr_enabled:
        raise AppError(INVALID_REQUEST, "setting a withdraw address is disabled by governance")
    bank.check_recipient(m.withdraw_address)
    if m.withdraw_address == m.delegator:
        state.delete(store.WITHDRAW_ADDR + m.delegator)
    else:
        state.set(store.WITHDRAW_ADDR + m.delegator, m.withdraw_address)
    return [bank.event("set_withdraw_address", delegator=_t(m.delegator),
                       withdraw_address=_t(m.withdraw_address))]
