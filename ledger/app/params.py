"""The application's parameters: integers only (shares in parts per million), with defaults,
validation, and their place in the store (governance may change them later).

Gas is fixed per message type so that a fee is known before a transaction is sent:
gas(tx) = sum over its messages of gas[type] (+ gas["bank/multi_send_output"] per output),
and the fee must be at least gas(tx) * min_gas_price ucom (the default table: `gas.py`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..encoding import decode, encode
from .errors import INVALID_REQUEST, AppError
from .gas import DEFAULT_GAS
from .state import State

KEY = b"params"
PPM = 1_000_000
TEN_YEARS = 10 * 365 * 86_400  # seconds: the longest period a parameter may set (times become
# 8-byte store keys)
DENOM = "ucom"  # 10^6 ucom = 1 com



@dataclass(frozen=True)
class Params:
    min_gas_price: int = 1  # ucom per gas unit
    gas: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_GAS))
    max_tx_bytes: int = 65_536
    max_msgs: int = 64
    max_memo_bytes: int = 256

    def to_obj(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_obj(cls, d: Any, base: Params | None = None) -> Params:
        """Parameters from a dict; missing fields keep `base`'s (default: the defaults)."""
        base = base or cls()
        if not isinstance(d, dict):
            raise AppError(INVALID_REQUEST, "params must be an object")
        known = {f.name for f in fields(cls)}
        for name in sorted(d):
            if name not in known:
                raise AppError(INVALID_REQUEST, f"unknown parameter {name!r}")
        p = replace(base, **d)
        p.validate()
        return p

    def validate(self) -> None:
        for name in ("min_gas_price", "max_tx_bytes", "max_msgs", "max_memo_bytes"):
            v = getattr(self, name)
            if not _is_int(v) or v < 0:
                raise AppError(INVALID_REQUEST, f"parameter {name} must be a non-negative integer")
        if self.max_tx_bytes < 1024 or self.max_msgs < 1:
            raise AppError(INVALID_REQUEST, "parameters max_tx_bytes >= 1024 and max_msgs >= 1")
        if not isinstance(self.gas, dict) or any(
                not isinstance(k, str) or not _is_int(v) or v < 0 for k, v in self.gas.items()):
            raise AppError(INVALID_REQUEST, "parameter gas maps message types to integers")
        missing = sorted(set(DEFAULT_GAS) - set(self.gas))
        if missing:
            raise AppError(INVALID_REQUEST, f"parameter gas lacks {', '.join(missing)}")


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_LOADED: dict[bytes, Params] = {}


@functools.cache
def defaults() -> Params:
    return Params()


def load(state: State) -> Params:
    """The parameters in `state`; the same object for the same stored bytes (read per tx)."""
    raw = state.get(KEY)
    if raw is None:
        return defaults()
    hit = _LOADED.get(raw)
    if hit is None:
        if len(_LOADED) > 16:
            _LOADED.clear()
        hit = _LOADED[raw] = Params.from_obj(decode(raw))
    return hit


def save(state: State, params: Params) -> None:
    params.validate()
    state.set(KEY, encode(params.to_obj()))
