"""Consensus write-ahead log: length + CRC32 framed records in rotating segment files.

Consensus logs every message it acts upon (its own proposals and votes with ``write_sync``,
peer messages and timeouts with the buffered ``write``) and an end-height marker once a height
is committed. After a crash it replays the records that follow the last marker
(``replay_last()``), or the marker of a given height (``messages_after(h)``), to rebuild its
round state without signing anything new.

Record layout (big-endian)::

    crc32(kind || data) : u32 | len(data) : u32 | kind : u8 | data

``kind`` is ``MESSAGE`` (opaque bytes from core) or ``END_HEIGHT`` (data = u64 height; the
``#ENDHEIGHT h`` marker of CometBFT). A torn or corrupted tail of the newest segment (a crash
mid-write) is truncated at open and reported in ``WAL.repaired``; corruption in an older,
closed segment is an error (``WALCorruptError``) because it cannot come from a crash.

Files live in one directory, ``00000000.wal``, ``00000001.wal``...: the highest index is the
head. The head rotates past ``segment_bytes``; the oldest segments are deleted while the total
exceeds ``max_total_bytes`` (never the segment holding the last end-height marker nor later).
A fresh WAL starts with ``END_HEIGHT(initial_end_height)`` (0 by default), as CometBFT does.

Mapping onto ``ledger.consensus.ports.WAL`` (for the node's adapter): ``append(r, sync)`` is
``write_sync(r)`` / ``write(r)``; ``reset()`` after committing block h is
``write_end_height(h)``; ``records()`` is ``replay_last().messages``.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ledger.errors import LedgerError, Reason

log = logging.getLogger(__name__)

MESSAGE = 1
END_HEIGHT = 2
_HEADER = struct.Struct(">IIB")
_HEIGHT = struct.Struct(">Q")


class WALError(LedgerError):
    """Root of WAL errors."""


class WALCorruptError(WALError):
    """A closed segment is damaged: needs an operator, not an automatic repair."""

    reason = Reason.DECODE


@dataclass(frozen=True)
class Record:
    kind: int
    data: bytes

    @property
    def height(self) -> int:
        return int(_HEIGHT.unpack(self.data)[0])


@dataclass(frozen=True)
class TailRepair:
    """What was cut off the head segment at open."""

    segment: Path
    offset: int
    dropped_bytes: int
    reason: str


@dataclass(frozen=True)
class Replay:
    end_height: int
    messages: list[bytes]


def encode_record(kind: int, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(bytes((kind,))))
    return _HEADER.pack(crc, len(data), kind) + data


def _scan(buf: bytes, max_record: int) -> tuple[list[Record], int, str]:
    """Parse records; return (records, offset of the first bad byte, reason or "")."""
    records: list[Record] = []
    view = memoryview(buf)
    pos, end, hsize = 0, len(buf), _HEADER.size
    while pos < end:
        if end - pos < hsize:
            return records, pos, "truncated header"
        crc, length, kind = _HEADER.unpack_from(buf, pos)
        if kind not in (MESSAGE, END_HEIGHT) or length > max_record:
            return records, pos, "invalid header"
        if end - pos - hsize < length:
            return records, pos, "truncated record"
        data = bytes(view[pos + hsize : pos + hsize + length])
        if zlib.crc32(data, zlib.crc32(bytes((kind,)))) != crc:
            return records, pos, "checksum mismatch"
        if kind == END_HEIGHT and length != _HEIGHT.size:
            return records, pos, "invalid end-height marker"
        records.append(Record(kind, data))
        pos += hsize + length
    return records, pos, ""


class WAL:
    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        segment_bytes: int = 16 << 20,
        max_total_bytes: int = 256 << 20,
        max_record_bytes: int = 4 << 20,
        initial_end_height: int = 0,
    ) -> None:
        self.dir = Path(directory)
        self.segment_bytes = segment_bytes
        self.max_total_bytes = max_total_bytes
        self.max_record_bytes = max_record_bytes
        self.repaired: TailRepair | None = None
        self.dir.mkdir(parents=True, exist_ok=True)
        indexes = self._indexes()
        self._marker_segment = indexes[-1] if indexes else 0
        if not indexes:
            self._head_index = 0
            self._file = self._open_head()
            self.write_end_height(initial_end_height)
            return
        self._head_index = indexes[-1]
        self._repair_head()
        self._file = self._open_head()
        if len(indexes) == 1 and self._head_size == 0:  # crashed before the first marker
            self.write_end_height(initial_end_height)
            return
        for index in reversed(indexes):  # where is the last marker? (protects it from pruning)
            if any(r.kind == END_HEIGHT for r in self._records(index)):
                self._marker_segment = index
                break

    # -- files ---------------------------------------------------------------------------

    def _path(self, index: int) -> Path:
        return self.dir / f"{index:08d}.wal"

    def _indexes(self) -> list[int]:
        out = []
        for p in self.dir.glob("*.wal"):
            if p.stem.isdigit():
                out.append(int(p.stem))
        return sorted(out)

    def _open_head(self) -> BinaryIO:
        f = open(self._path(self._head_index), "ab", buffering=1 << 16)  # noqa: SIM115
        self._head_size = f.tell()
        return f

    def _repair_head(self) -> None:
        path = self._path(self._head_index)
        buf = path.read_bytes()
        _, good, reason = _scan(buf, self.max_record_bytes)
        if good == len(buf):
            return
        with open(path, "r+b") as f:
            f.truncate(good)
            f.flush()
            os.fsync(f.fileno())
        self.repaired = TailRepair(path, good, len(buf) - good, reason)
        log.warning(
            "WAL %s: %s at offset %d, dropped %d bytes", path, reason, good, len(buf) - good
        )

    def _records(self, index: int) -> list[Record]:
        buf = self._path(index).read_bytes()
        records, good, reason = _scan(buf, self.max_record_bytes)
        if good != len(buf):
            raise WALCorruptError(f"WAL segment {self._path(index)}: {reason} at offset {good}")
        return records

    # -- writing -------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Append a message; it reaches the disk on the next ``sync`` (or buffer flush)."""
        self._append(MESSAGE, data)

    def write_sync(self, data: bytes) -> None:
        """Append a message and fsync: use it before acting on our own signed messages."""
        self._append(MESSAGE, data)
        self.sync()

    def write_end_height(self, height: int) -> None:
        """Mark ``height`` as committed (durably); replay starts after the last such marker."""
        # Set first: the append may rotate and prune, and must keep the marker's segment.
        self._marker_segment = self._head_index
        self._append(END_HEIGHT, _HEIGHT.pack(height))
        self.sync()

    def _append(self, kind: int, data: bytes) -> None:
        if len(data) > self.max_record_bytes:
            raise WALError(f"WAL record of {len(data)} bytes exceeds {self.max_record_bytes}")
        rec = encode_record(kind, data)
        self._file.write(rec)
        self._head_size += len(rec)
        if self._head_size >= self.segment_bytes:
            self._rotate()

    def flush(self) -> None:
        """Hand buffered records to the OS (survives a process crash, not a power loss)."""
        self._file.flush()

    def sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def _rotate(self) -> None:
        self.sync()
        self._file.close()
        self._head_index += 1
        self._file = self._open_head()
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        self._prune()

    def _prune(self) -> None:
        indexes = self._indexes()
        sizes = {i: self._path(i).stat().st_size for i in indexes}
        total = sum(sizes.values())
        for i in indexes:
            if total <= self.max_total_bytes or i >= self._marker_segment:
                break
            self._path(i).unlink()
            total -= sizes[i]

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()

    # -- reading -------------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        """Every record, oldest first (flushes pending writes first)."""
        self.flush()
        for index in self._indexes():
            yield from self._records(index)

    def _after_marker(self, height: int | None) -> Replay | None:
        self.flush()
        indexes = self._indexes()
        for pos in range(len(indexes) - 1, -1, -1):
            recs = self._records(indexes[pos])
            for j in range(len(recs) - 1, -1, -1):
                r = recs[j]
                if r.kind == END_HEIGHT and (height is None or r.height == height):
                    return Replay(r.height, self._messages_until_marker(indexes, pos, j + 1))
        return None

    def _messages_until_marker(self, indexes: list[int], pos: int, start: int) -> list[bytes]:
        out: list[bytes] = []
        recs = self._records(indexes[pos])[start:]
        while True:
            for r in recs:
                if r.kind == END_HEIGHT:
                    return out
                out.append(r.data)
            pos += 1
            if pos >= len(indexes):
                return out
            recs = self._records(indexes[pos])

    def replay_last(self) -> Replay | None:
        """The last end-height marker and the messages written after it."""
        return self._after_marker(None)

    def messages_after(self, height: int) -> list[bytes] | None:
        """Messages between ``END_HEIGHT(height)`` and the next marker (None: no such marker)."""
        found = self._after_marker(height)
        return None if found is None else found.messages

    def last_end_height(self) -> int | None:
        found = self._after_marker(None)
        return None if found is None else found.end_height

    def __enter__(self) -> WAL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
