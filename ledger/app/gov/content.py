"""What passed proposals execute as the gov module account (each message's `authority` must be
that account, so no ordinary transaction can carry one):

  {"type": "gov/community_pool_spend", "authority": addr, "recipient": addr, "amount": int > 0}
  {"type": "gov/software_upgrade", "authority": addr, "name": str, "height": int > 0, "info": str}
  {"type": "gov/cancel_upgrade", "authority": addr}
  {"type": "gov/update_params", "authority": addr, "module": str, "changes": {name: value}}

A software upgrade is a notice: the plan is stored under b"gov/upgrade" (one plan at a time; a
new one replaces it) for operators and tools to read. Parameter changes go through
`PARAM_MODULES`, which the application fills with every module whose parameters governance may
change (gov's own are there from the start)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ...abci import Event
from ...encoding import decode, encode
from .. import address, bank, wire
from ..blockctx import BlockContext
from ..errors import INSUFFICIENT_FUNDS, INVALID_REQUEST, NOT_FOUND, TX_DECODE, AppError
from ..msgs import Msg
from ..state import State
from . import params as gparams

UPGRADE = b"gov/upgrade"
MAX_NAME, MAX_INFO = 140, 2048


class HasObj(Protocol):
    def to_obj(self) -> dict[str, Any]: ...


class ParamModule(Protocol):
    def load(self, state: State) -> HasObj: ...
    def from_obj(self, d: Any, base: Any) -> HasObj: ...  # validated; AppError otherwise
    def save(self, state: State, p: Any) -> None: ...


class ParamModuleOf:
    """A ParamModule from a module's three functions."""

    def __init__(self, load: Callable[[State], Any], from_obj: Callable[[Any, Any], Any],
                 save: Callable[[State, Any], None]) -> None:
        self._load, self._from_obj, self._save = load, from_obj, save

    def load(self, state: State) -> HasObj:
        return self._load(state)  # type: ignore[no-any-return]

    def from_obj(self, d: Any, base: Any) -> HasObj:
        return self._from_obj(d, base)  # type: ignore[no-any-return]

    def save(self, state: State, p: Any) -> None:
        self._save(state, p)


PARAM_MODULES: dict[str, ParamModule] = {
    "gov": ParamModuleOf(gparams.load, gparams.GovParams.from_obj, gparams.save),
}


class _Gov(wire.Message):
    authority: bytes

    @property
    def signer(self) -> bytes:
        return self.authority


@dataclass(frozen=True)
class MsgCommunityPoolSpend(_Gov):
    authority: bytes
    recipient: bytes
    amount: int
    type: ClassVar[str] = "gov/community_pool_spend"

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "authority": self.authority, "recipient": self.recipient,
                "amount": self.amount}


@dataclass(frozen=True)
class MsgSoftwareUpgrade(_Gov):
    authority: bytes
    name: str
    height: int
    info: str
    type: ClassVar[str] = "gov/software_upgrade"

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "authority": self.authority, "name": self.name,
                "height": self.height, "info": self.info}


@dataclass(frozen=True)
class MsgCancelUpgrade(_Gov):
    authority: bytes
    type: ClassVar[str] = "gov/cancel_upgrade"

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "authority": self.authority}


@dataclass(frozen=True)
class MsgUpdateParams(_Gov):
    authority: bytes
    module: str
    changes: dict[str, Any]
    type: ClassVar[str] = "gov/update_params"

    def __hash__(self) -> int:  # changes is a dict
        return hash((self.authority, self.module))

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "authority": self.authority, "module": self.module,
                "changes": self.changes}


def _authority(d: dict[str, Any]) -> bytes:
    return wire.addr(d["authority"], "authority")


def parse_pool_spend(d: dict[str, Any]) -> MsgCommunityPoolSpend:
    wire.fields(d, {"type", "authority", "recipient", "amount"})
    return MsgCommunityPoolSpend(_authority(d), wire.addr(d["recipient"], "recipient"),
                                 wire.uint(d["amount"], "the amount", positive=True))


def parse_upgrade(d: dict[str, Any]) -> MsgSoftwareUpgrade:
    wire.fields(d, {"type", "authority", "name", "height", "info"})
    return MsgSoftwareUpgrade(_authority(d), wire.text(d["name"], "the upgrade name", MAX_NAME,
                                                       required=True),
                              wire.uint(d["height"], "the upgrade height", positive=True),
                              wire.text(d["info"], "the upgrade info", MAX_INFO))


def parse_cancel(d: dict[str, Any]) -> MsgCancelUpgrade:
    wire.fields(d, {"type", "authority"})
    return MsgCancelUpgrade(_authority(d))


def parse_update_params(d: dict[str, Any]) -> MsgUpdateParams:
    wire.fields(d, {"type", "authority", "module", "changes"})
    module = wire.text(d["module"], "the module", 64, required=True)
    if not isinstance(d["changes"], dict) or not d["changes"]:
        raise AppError(TX_DECODE, "changes must be a non-empty object of parameter values")
    return MsgUpdateParams(_authority(d), module, d["changes"])


def check_gov(m: Msg) -> None:
    """Stateless check of every governance-only message (CheckTx refuses them early)."""
    assert isinstance(m, _Gov)
    wire.require_gov(m.authority, m.type)


def handle_pool_spend(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgCommunityPoolSpend)
    check_gov(m)
    bank.check_recipient(m.recipient)
    pool = bank.module(bank.COMMUNITY_POOL)
    have = bank.balance(state, pool)
    if have < m.amount:
        raise AppError(INSUFFICIENT_FUNDS, f"the community pool holds {bank.shown(have)}, less "
                                           f"than the {bank.shown(m.amount)} asked for")
    events = bank.transfer(state, pool, m.recipient, m.amount)
    events.append(bank.event("community_pool_spend", recipient=address.to_text(m.recipient),
                             amount=bank.coins(m.amount)))
    return events


def handle_upgrade(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgSoftwareUpgrade)
    check_gov(m)
    if m.height <= ctx.height:
        raise AppError(INVALID_REQUEST, f"the upgrade height {m.height} is not after the "
                                        f"current height {ctx.height}")
    state.set(UPGRADE, encode({"name": m.name, "height": m.height, "info": m.info}))
    return [bank.event("software_upgrade", name=m.name, height=str(m.height))]


def handle_cancel(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgCancelUpgrade)
    check_gov(m)
    plan = pending_upgrade(state)
    if plan is None:
        raise AppError(NOT_FOUND, "there is no pending upgrade to cancel")
    state.delete(UPGRADE)
    return [bank.event("cancel_upgrade", name=plan["name"])]


def check_changes(state: State, m: MsgUpdateParams) -> HasObj:
    """The module's parameters with the changes applied, validated (AppError otherwise)."""
    mod = PARAM_MODULES.get(m.module)
    if mod is None:
        raise AppError(INVALID_REQUEST, f"unknown parameter module {m.module!r} "
                                        f"(known: {', '.join(sorted(PARAM_MODULES))})")
    return mod.from_obj(m.changes, mod.load(state))


def handle_update_params(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgUpdateParams)
    check_gov(m)
    changed = check_changes(state, m)
    PARAM_MODULES[m.module].save(state, changed)
    return [bank.event("update_params", module=m.module, changed=",".join(sorted(m.changes)))]


def pending_upgrade(state: State) -> dict[str, Any] | None:
    raw = state.get(UPGRADE)
    return None if raw is None else decode(raw)  # type: ignore[no-any-return]
