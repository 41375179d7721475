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
    if type(v) is int and 0 < v < 1 << 1015:  # balances and counters: one length byte
        raw = v.to_bytes(v.bit_length() // 8 + 1, "big")
        return b"i" + bytes((len(raw),)) + raw
    out = bytearray()
    _enc(v, out)
    return bytes(out)


# Decoding is a set of functions over (buffer, position) rather than a reader object: every
# transaction and every balance goes through here, and attribute lookups were most of its time.
# Indexing past the end raises IndexError, which `decode` reports as truncation.


def _varint_at(buf: bytes, pos: int) -> tuple[int, int]:
    b = buf[pos]
    if b < 0x80:
        return b, pos + 1
    n, shift = b & 0x7F, 7
    pos += 1
    while True:
        b = buf[pos]
        pos += 1
        if shift > 56:
            raise DecodeError("varint too long")
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if b == 0:
                raise DecodeError("non-minimal varint")
            return n, pos


def _span(buf: bytes, pos: int) -> tuple[int, int]:
    """A length prefix at `pos`: (start, end) of the bytes it announces."""
    n = buf[pos]
    if n < 0x80:  # one length byte: nearly always
        pos += 1
    else:
        n, pos = _varint_at(buf, pos)
    end = pos + n
    if end > len(buf):
        raise DecodeError("truncated value")
    return pos, end


def _count_at(buf: bytes, pos: int) -> tuple[int, int]:
    n, pos = _varint_at(buf, pos)
    # Each item takes at least one byte: a bigger count is a lie we refuse to allocate for.
    if n > MAX_ITEMS or n > len(buf) - pos:
        raise DecodeError("collection count exceeds input")
    return n, pos


def _value(buf: bytes, pos: int, depth: int) -> tuple[Value, int]:
    if depth > MAX_DEPTH:
        raise DecodeError("nesting too deep")
    tag = buf[pos]
    if tag == 0x62:  # bytes
        start, end = _span(buf, pos + 1)
        return buf[start:end], end
    if tag == 0x69:  # int
        start, end = _span(buf, pos + 1)
        v = int.from_bytes(buf[start:end], "big", signed=True)
        if end - start != (v and (v + (v < 0)).bit_length() // 8 + 1):
            raise DecodeError("non-minimal integer")
        return v, end
    if tag == 0x73:  # str
        start, end = _span(buf, pos + 1)
        return _utf8(buf[start:end]), end
    if tag == 0x64:  # dict
        n, pos = _count_at(buf, pos + 1)
        d: dict[str, Value] = {}
        prev = b""
        for i in range(n):
            if buf[pos] != 0x73:
                raise DecodeError("dict key is not a string")
            start, pos = _span(buf, pos + 1)
            raw = buf[start:pos]
            if i and raw <= prev:
                raise DecodeError("dict keys not strictly sorted")
            prev = raw
            d[_utf8(raw)], pos = _value(buf, pos, depth + 1)
        return d, pos
    if tag == 0x6C:  # list
        n, pos = _count_at(buf, pos + 1)
        out = []
        for _ in range(n):
            v, pos = _value(buf, pos, depth + 1)
            out.append(v)
        return out, pos
    if tag == 0x4E:
        return None, pos + 1
    if tag == 0x54:
        return True, pos + 1
    if tag == 0x46:
        return False, pos + 1
    raise DecodeError(f"unknown tag {tag:#x}")


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError("invalid UTF-8") from e


def decode(buf: bytes, max_size: int | None = None) -> Value:
    """Decode exactly one canonical value; trailing bytes are an error."""
    if max_size is not None and len(buf) > max_size:
        raise DecodeError(f"message of {len(buf)} bytes exceeds limit {max_size}")
    buf = bytes(buf)
    if buf[:1] == b"i" and len(buf) > 2 and buf[1] == len(buf) - 2 < 0x80 and buf[2] < 0x80:
        v = int.from_bytes(buf[2:], "big")  # a positive int whose length fits one byte
        if v and v.bit_length() // 8 + 1 == len(buf) - 2:
            return v
        raise DecodeError("non-minimal integer")
    try:
        v, pos = _value(buf, 0, 0)
    except IndexError:
        raise DecodeError("truncated value") from None
    if pos != len(buf):
        raise DecodeError("trailing bytes")
    return v
