"""Canonical, deterministic binary encoding for everything hashed, signed or sent.

One value has exactly one encoding: dict keys are sorted by their UTF-8 bytes, integers are
minimal, floats are refused. `decode` accepts only canonical input (so two different byte
strings never decode to the same value, and a signature covers exactly one meaning), and it
enforces depth, length and size limits so that a peer cannot make us allocate without bound.

Grammar (tag byte, then payload; n = unsigned LEB128 varint):
  N  None | T true | F false
  i  n=len, two's-complement big-endian minimal bytes   (int)
  b  n=len, bytes | s n=len, UTF-8
  l  n=count, items | d n=count, (key as `s`, value)* in strictly increasing key order
"""

from __future__ import annotations

from typing import Any

from .errors import DecodeError

Value = Any  # None | bool | int | bytes | str | list[Value] | dict[str, Value]

MAX_DEPTH = 32
MAX_ITEMS = 1_000_000


def _varint(n: int, out: bytearray) -> None:
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def _int_bytes(v: int) -> bytes:
    if v == 0:
        return b""
    length = (v + (v < 0)).bit_length() // 8 + 1
    return v.to_bytes(length, "big", signed=True)


def _enc(v: Value, out: bytearray) -> None:
    # bool before int: bool is a subclass of int.
    if v is None:
        out.append(0x4E)
    elif v is True:
        out.append(0x54)
    elif v is False:
        out.append(0x46)
    elif isinstance(v, int):
        raw = _int_bytes(v)
        out.append(0x69)
        _varint(len(raw), out)
        out += raw
    elif isinstance(v, bytes | bytearray | memoryview):
        out.append(0x62)
        _varint(len(v), out)
        out += v
    elif isinstance(v, str):
        raw = v.encode("utf-8")
        out.append(0x73)
        _varint(len(raw), out)
        out += raw
    elif isinstance(v, list | tuple):
        out.append(0x6C)
        _varint(len(v), out)
        for item in v:
            _enc(item, out)
    elif isinstance(v, dict):
        keys = []
        for k in v:
            if not isinstance(k, str):
                raise TypeError(f"dict keys must be str, not {type(k).__name__}")
            keys.append((k.encode("utf-8"), k))
        keys.sort()
        out.append(0x64)
        _varint(len(keys), out)
        for raw, k in keys:
            out.append(0x73)
            _varint(len(raw), out)
            out += raw
            _enc(v[k], out)
    else:
        raise TypeError(f"cannot encode {type(v).__name__} canonically")


def encode(v: Value) -> bytes:
    out = bytearray()
    _enc(v, out)
    return bytes(out)


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def varint(self) -> int:
        n = shift = 0
        while True:
            if self.pos >= len(self.buf):
                raise DecodeError("truncated varint")
            b = self.buf[self.pos]
            self.pos += 1
            if shift > 56:
                raise DecodeError("varint too long")
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b == 0 and shift > 7:
                    raise DecodeError("non-minimal varint")
                return n

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            raise DecodeError("truncated value")
        raw = self.buf[self.pos : end]
        self.pos = end
        return raw

    def value(self, depth: int) -> Value:
        if depth > MAX_DEPTH:
            raise DecodeError("nesting too deep")
        tag = self.take(1)[0]
        if tag == 0x4E:
            return None
        if tag == 0x54:
            return True
        if tag == 0x46:
            return False
        if tag == 0x69:
            raw = self.take(self.varint())
            v = int.from_bytes(raw, "big", signed=True)
            if _int_bytes(v) != raw:
                raise DecodeError("non-minimal integer")
            return v
        if tag == 0x62:
            return self.take(self.varint())
        if tag == 0x73:
            return self._str()
        if tag == 0x6C:
            n = self._count()
            return [self.value(depth + 1) for _ in range(n)]
        if tag == 0x64:
            n = self._count()
            d: dict[str, Value] = {}
            prev: bytes | None = None
            for _ in range(n):
                if self.take(1) != b"s":
                    raise DecodeError("dict key is not a string")
                raw = self.take(self.varint())
                if prev is not None and raw <= prev:
                    raise DecodeError("dict keys not strictly sorted")
                prev = raw
                d[_utf8(raw)] = self.value(depth + 1)
            return d
        raise DecodeError(f"unknown tag {tag:#x}")

    def _count(self) -> int:
        n = self.varint()
        # Each item takes at least one byte: a bigger count is a lie we refuse to allocate for.
        if n > MAX_ITEMS or n > len(self.buf) - self.pos:
            raise DecodeError("collection count exceeds input")
        return n

    def _str(self) -> str:
        return _utf8(self.take(self.varint()))


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError("invalid UTF-8") from e


def decode(buf: bytes, max_size: int | None = None) -> Value:
    """Decode exactly one canonical value; trailing bytes are an error."""
    if max_size is not None and len(buf) > max_size:
        raise DecodeError(f"message of {len(buf)} bytes exceeds limit {max_size}")
    r = _Reader(bytes(buf))
    v = r.value(0)
    if r.pos != len(r.buf):
        raise DecodeError("trailing bytes")
    return v
