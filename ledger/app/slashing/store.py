"""Signing info per validator, under b"slh/i/" + consensus address(20) -> encode of
{"start_height", "index_offset", "missed" (bitmap bytes over the window, bit i = block
index_offset % window missed), "missed_count", "jailed_until" (ms), "tombstoned", "window"}.
It is created the first time the validator appears in a last commit."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from ...encoding import decode, encode
from ..state import State

INFO = b"slh/i/"
FOREVER = 2**63 - 1  # jailed_until of a tombstoned validator


@dataclass(frozen=True)
class SigningInfo:
    start_height: int
    index_offset: int = 0
    missed: bytes = b""
    missed_count: int = 0
    jailed_until: int = 0
    tombstoned: bool = False
    window: int = 0

    def to_obj(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def with_(self, **changes: Any) -> SigningInfo:
        return replace(self, **changes)


def get(state: State, cons: bytes) -> SigningInfo | None:
    raw = state.get(INFO + cons)
    return None if raw is None else SigningInfo(**decode(raw))


def put(state: State, cons: bytes, info: SigningInfo) -> None:
    state.set(INFO + cons, encode(info.to_obj()))


def bit(bitmap: bytes, i: int) -> bool:
    return bool(bitmap[i // 8] >> (i % 8) & 1)


def set_bit(bitmap: bytes, i: int, on: bool) -> bytes:
    b = bytearray(bitmap)
    if on:
        b[i // 8] |= 1 << (i % 8)
    else:
        b[i // 8] &= ~(1 << (i % 8)) & 0xFF
    return bytes(b)
