"""What the types share: checked field access for `from_obj`, so that a peer's decoded bytes
become a typed value or raise `DecodeError`, and the SHA-256 their hashes use."""

from __future__ import annotations

import hashlib
from typing import Any

from ..errors import DecodeError


def sha256(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def typed(d: Any, key: str, kind: type | tuple[type, ...], size: int | None = None) -> Any:
    """Fetch a typed field from a decoded dict, or raise DecodeError."""
    if not isinstance(d, dict) or key not in d:
        raise DecodeError(f"missing field {key!r}")
    v = d[key]
    if isinstance(v, bool) and kind is int:
        raise DecodeError(f"field {key!r} has the wrong type")
    if not isinstance(v, kind):
        raise DecodeError(f"field {key!r} has the wrong type")
    if size is not None and isinstance(v, bytes) and len(v) != size:
        raise DecodeError(f"field {key!r} must be {size} bytes")
    return v


def hash_or_none(d: Any, key: str) -> bytes | None:
    v = typed(d, key, (bytes, type(None)))
    if v is not None and len(v) != 32:
        raise DecodeError(f"field {key!r} must be 32 bytes")
    return v  # type: ignore[no-any-return]


def nonneg(d: Any, key: str, minimum: int = 0) -> int:
    v = typed(d, key, int)
    if v < minimum or v > 2**63 - 1:
        raise DecodeError(f"field {key!r} out of range")
    return v  # type: ignore[no-any-return]
