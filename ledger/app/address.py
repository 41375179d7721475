"""Account addresses: the first 20 bytes of SHA-256 of an Ed25519 public key (as CometBFT),
written for people in bech32 (BIP-173) with the human-readable part `com`.

The ~40 lines of bech32 are written here rather than taken from a dependency; they are checked
against BIP-173's test vectors in the tests."""

from __future__ import annotations

import functools
import hashlib

from .. import crypto
from .errors import INVALID_ADDRESS, AppError

HRP = "com"
ADDRESS_SIZE = 20
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


# The generator terms XORed in for each value of the checksum's top 5 bits, so that each step
# of the checksum is one lookup (BIP-173's loop over the 5 bits, done once here).
def _top_terms(top: int) -> int:
    out = 0
    for i in range(5):
        if (top >> i) & 1:
            out ^= _GEN[i]
    return out


_TOP = tuple(_top_terms(t) for t in range(32))


def _polymod(values: list[int]) -> int:
    chk = 1
    top = _TOP
    for v in values:
        chk = (chk & 0x1FFFFFF) << 5 ^ v ^ top[chk >> 25]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert(data: bytes | list[int], frm: int, to: int, pad: bool) -> list[int] | None:
    acc = bits = 0
    out = []
    for v in data:
        acc = (acc << frm) | v
        bits += frm
        while bits >= to:
            bits -= to
            out.append((acc >> bits) & ((1 << to) - 1))
    if pad and bits:
        out.append((acc << (to - bits)) & ((1 << to) - 1))
    elif not pad and (bits >= frm or (acc << (to - bits)) & ((1 << to) - 1)):
        return None
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    words = _convert(data, 8, 5, True) or []
    poly = _polymod(_hrp_expand(hrp) + words + [0] * 6) ^ 1
    check = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in words + check)


def bech32_decode(text: str) -> tuple[str, bytes] | None:
    """(hrp, data) of a valid bech32 string, or None."""
    if len(text) > 90 or any(ord(c) < 33 or ord(c) > 126 for c in text):
        return None
    if text.lower() != text and text.upper() != text:
        return None
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or any(c not in _CHARSET for c in text[pos + 1:]):
        return None
    hrp, words = text[:pos], [_CHARSET.find(c) for c in text[pos + 1:]]
    if _polymod(_hrp_expand(hrp) + words) != 1:
        return None
    data = _convert(words[:-6], 5, 8, False)
    return None if data is None else (hrp, bytes(data))


@functools.lru_cache(maxsize=65_536)
def to_text(addr: bytes) -> str:
    """Memoized: every event names accounts, and the checksum is pure-Python arithmetic."""
    return bech32_encode(HRP, addr)


def parse(value: str | bytes) -> bytes:
    """An address from its bech32 text or its 20 raw bytes; AppError otherwise."""
    if isinstance(value, bytes) and len(value) == ADDRESS_SIZE:
        return value
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    got = bech32_decode(text.strip())
    if got is None or got[0] != HRP or len(got[1]) != ADDRESS_SIZE:
        shown = text if len(text) <= 64 else text[:61] + "..."
        raise AppError(INVALID_ADDRESS, f"{shown!r} is not an address (com1... in bech32)")
    return got[1]


def of_pub_key(pub_key: bytes) -> bytes:
    return crypto.address(pub_key)


def module_address(name: str) -> bytes:
    """A module account's address, as the Cosmos SDK: SHA-256 of the module name, 20 bytes."""
    return hashlib.sha256(name.encode()).digest()[:ADDRESS_SIZE]
