"""What every module's messages share: their base (`Message`), reading their fields from the
wire form (each helper refuses a bad field with one sentence naming it), the governance-only
authority check, and stored values as JSON answers show them."""

from __future__ import annotations

from typing import Any, ClassVar

from . import address, bank
from .errors import INVALID_ADDRESS, INVALID_REQUEST, TX_DECODE, UNAUTHORIZED, AppError
from .params import Params


class Message:
    """Base of a module's message dataclasses: its gas is its type's entry in the gas table,
    and it spends nothing from the signer unless it says so (CheckTx reserves what it spends)."""

    type: ClassVar[str]

    def gas(self, params: Params) -> int:
        return params.gas[self.type]

    def spend(self) -> int:
        return 0


def fields(d: dict[str, Any], want: set[str]) -> None:
    if set(d) != want:
        raise AppError(TX_DECODE, f"a {d['type']} message has exactly the fields "
                                  f"{', '.join(sorted(want))}")


def addr(v: Any, name: str) -> bytes:
    if not isinstance(v, bytes) or len(v) != address.ADDRESS_SIZE:
        raise AppError(INVALID_ADDRESS, f"{name} must be a 20-byte address")
    return v


def uint(v: Any, name: str, positive: bool = False) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < (1 if positive else 0):
        kind = "a positive" if positive else "a non-negative"
        raise AppError(INVALID_REQUEST, f"{name} must be {kind} integer")
    return v


def text(v: Any, name: str, max_len: int, required: bool = False) -> str:
    if not isinstance(v, str):
        raise AppError(TX_DECODE, f"{name} must be text")
    if required and not v.strip():
        raise AppError(INVALID_REQUEST, f"{name} cannot be empty")
    if len(v) > max_len:
        raise AppError(INVALID_REQUEST, f"{name} is longer than {max_len} characters")
    return v


def gov_account() -> bytes:
    return bank.module(bank.GOV)


def require_gov(authority: bytes, type_: str) -> None:
    """Governance-only messages: the authority is the gov module account, which no one holds
    the key of, so only a passed proposal can carry them."""
    if authority != gov_account():
        raise AppError(UNAUTHORIZED, f"{type_} is made by governance only: its authority must "
                                     f"be the gov module account {address.to_text(gov_account())}"
                                     f", not {address.to_text(authority)}")


def jsonable(v: Any) -> Any:
    """A stored value for JSON answers: 20-byte values as com1... addresses, other bytes as
    hex."""
    if isinstance(v, bytes):
        return address.to_text(v) if len(v) == address.ADDRESS_SIZE else v.hex()
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    return v
