"""Reading message fields from their wire form (staking, slashing, distribution): each helper
refuses a bad field with one sentence naming it."""

from __future__ import annotations

from typing import Any

from .. import address
from ..errors import INVALID_ADDRESS, INVALID_REQUEST, TX_DECODE, AppError


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
