"""The unjail message: {"type": "slashing/unjail", "operator": addr}. A jailed validator
whose jail time is over and which still has a self-delegation asks to be considered for the
bonded set again (it rejoins at the next end of block if it ranks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...abci import Event
from .. import address, bank, wire
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, UNAUTHORIZED, AppError
from ..msgs import Msg
from ..staking import slash as sslash
from ..staking import store as sstore
from ..state import State
from . import store


@dataclass(frozen=True)
class MsgUnjail(wire.Message):
    operator: bytes
    type: ClassVar[str] = "slashing/unjail"

    @property
    def signer(self) -> bytes:
        return self.operator

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "operator": self.operator}


def parse_unjail(d: dict[str, Any]) -> Msg:
    wire.fields(d, {"type", "operator"})
    return MsgUnjail(wire.addr(d["operator"], "operator"))


def no_check(m: Msg) -> None:
    """Nothing to check without the state."""


def handle_unjail(state: State, m: Msg, ctx: BlockContext) -> list[Event]:
    assert isinstance(m, MsgUnjail)
    v = sstore.must_validator(state, m.operator)
    who = address.to_text(m.operator)
    if v.tokens_of(sstore.shares(state, m.operator, m.operator)) == 0:
        raise AppError(INVALID_REQUEST, f"validator {who} has no self-delegation: delegate to "
                                        f"it from its operator account before unjailing")
    if not v.jailed:
        raise AppError(INVALID_REQUEST, f"validator {who} is not jailed")
    info = store.get(state, v.cons_address)
    if v.tombstoned or (info is not None and info.tombstoned):
        raise AppError(UNAUTHORIZED, f"validator {who} is tombstoned (it double-signed) and "
                                     f"can never be unjailed")
    if info is not None and ctx.time < info.jailed_until:
        raise AppError(INVALID_REQUEST, f"validator {who} is jailed until {info.jailed_until} "
                                        f"ms (block time); it is {ctx.time} ms")
    sslash.unjail(state, m.operator)
    if info is not None:  # a fresh window: no immediate downtime slash on rejoining
        store.put(state, v.cons_address, info.with_(start_height=ctx.height))
    return [bank.event("unjail", validator=who)]
