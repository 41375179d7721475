"""What the parameters of staking, slashing, distribution and mint share: a frozen dataclass
of integers (fractions in ppm, periods in seconds) and booleans, read from and written to the
store under b"params/<module>", validated field by field with one sentence per refusal."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, ClassVar, TypeVar

from ...encoding import decode, encode
from ..errors import INVALID_REQUEST, AppError
from ..params import PPM
from ..state import State

P = TypeVar("P", bound="ModuleParams")
_LOADED: dict[tuple[type, bytes], ModuleParams] = {}


class ModuleParams:
    """Base of the modules' parameter dataclasses. Subclasses name their module, the fields
    that are fractions in ppm (at most 10^6), those that must be positive, and the upper
    bounds of others (periods become 8-byte times in store keys; windows are allocated)."""

    MODULE: ClassVar[str]
    PPM_FIELDS: ClassVar[tuple[str, ...]] = ()
    POSITIVE: ClassVar[tuple[str, ...]] = ()
    MAXIMA: ClassVar[dict[str, int]] = {}

    def to_obj(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_obj(cls: type[P], d: Any, base: P | None = None) -> P:
        """Parameters from a dict; missing fields keep `base`'s (default: the defaults)."""
        b = base if base is not None else cls()
        if not isinstance(d, dict):
            raise AppError(INVALID_REQUEST, f"{cls.MODULE} params must be an object")
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        for name in sorted(d):
            if name not in known:
                raise AppError(INVALID_REQUEST, f"unknown {cls.MODULE} parameter {name!r}")
        p = replace(b, **d)  # type: ignore[type-var]
        p.validate()
        return p

    def validate(self) -> None:
        m = self.MODULE
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(getattr(type(self)(), f.name), bool):
                if not isinstance(v, bool):
                    raise AppError(INVALID_REQUEST, f"{m} parameter {f.name} must be true or false")
                continue
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise AppError(INVALID_REQUEST,
                               f"{m} parameter {f.name} must be a non-negative integer")
            if f.name in self.PPM_FIELDS and v > PPM:
                raise AppError(INVALID_REQUEST, f"{m} parameter {f.name} must be at most {PPM}")
            if f.name in self.POSITIVE and v == 0:
                raise AppError(INVALID_REQUEST, f"{m} parameter {f.name} must be positive")
            if v > self.MAXIMA.get(f.name, v):
                raise AppError(INVALID_REQUEST,
                               f"{m} parameter {f.name} must be at most {self.MAXIMA[f.name]}")

    @classmethod
    def key(cls) -> bytes:
        return b"params/" + cls.MODULE.encode()

    @classmethod
    def load(cls: type[P], state: State) -> P:
        """The same (frozen) value for the same stored bytes: read by most messages."""
        raw = state.get(cls.key())
        if raw is None:
            return cls()
        hit = _LOADED.get((cls, raw))
        if hit is None:
            if len(_LOADED) > 64:
                _LOADED.clear()
            hit = _LOADED[(cls, raw)] = cls.from_obj(decode(raw))
        assert isinstance(hit, cls)
        return hit

    def save(self, state: State) -> None:
        self.validate()
        state.set(self.key(), encode(self.to_obj()))
