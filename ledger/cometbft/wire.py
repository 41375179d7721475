"""ABCI's socket framing (CometBFT v0.37+): each protobuf message is preceded by its length as
an unsigned varint (Tendermint v0.34 used a zigzag-signed one; we speak only the new form)."""

from __future__ import annotations

import asyncio

MAX_MESSAGE = 104_857_600  # CometBFT's maxMsgSize: 100 MB
_MAX_VARINT = 10  # bytes of a uint64 varint


class FramingError(Exception):
    """The peer sent a length prefix we refuse (too long, or a varint that never ends)."""


def uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def frame(message: bytes) -> bytes:
    return uvarint(len(message)) + message


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next message, or None at a clean end of stream (between messages)."""
    length, shift = 0, 0
    for i in range(_MAX_VARINT):
        byte = await reader.read(1)
        if not byte:
            if i == 0:
                return None
            raise FramingError("the stream ended inside a length prefix")
        length |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            break
        shift += 7
    else:
        raise FramingError("a length prefix is longer than ten bytes")
    if length > MAX_MESSAGE:
        raise FramingError(f"a message of {length} bytes exceeds the {MAX_MESSAGE}-byte limit")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise FramingError("the stream ended inside a message") from None


def missing(partial: bytes) -> int:
    """How many bytes the partial frame at the start of `partial` still lacks (0 when its
    length prefix itself is incomplete: read on as usual)."""
    length, shift = 0, 0
    for i, b in enumerate(partial[:_MAX_VARINT]):
        length |= (b & 0x7F) << shift
        if b < 0x80:
            return max(0, i + 1 + length - len(partial))
        shift += 7
    return 0


def split_frames(buf: bytes) -> tuple[list[bytes], bytes]:
    """The complete messages at the start of `buf`, and the bytes left over (a partial one)."""
    out: list[bytes] = []
    pos = 0
    while True:
        length, shift, i = 0, 0, pos
        while i < len(buf) and i - pos < _MAX_VARINT:
            b = buf[i]
            length |= (b & 0x7F) << shift
            i += 1
            if b < 0x80:
                break
            shift += 7
        else:
            if i - pos >= _MAX_VARINT:
                raise FramingError("a length prefix is longer than ten bytes")
            return out, buf[pos:]
        if length > MAX_MESSAGE:
            raise FramingError(f"a message of {length} bytes exceeds the {MAX_MESSAGE}-byte "
                               f"limit")
        if i + length > len(buf):
            return out, buf[pos:]
        out.append(buf[i:i + length])
        pos = i + length
