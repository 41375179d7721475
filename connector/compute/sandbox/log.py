"""A job's log, kept within a byte budget however much the job prints.

The head and the tail are kept (a traceback is usually at the end); what lies between is
dropped and counted, so a job printing forever costs the node a fixed amount of memory.
"""

from __future__ import annotations

import asyncio

_MARKER = "\n[... {} bytes dropped ...]\n"


class CappedLog:
    def __init__(self, limit: int) -> None:
        room = max(limit - len(_MARKER) - 20, 0)
        self._head_cap = room // 2
        self._tail_cap = room - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        take = min(len(data), self._head_cap - len(self._head))
        if take > 0:
            self._head += data[:take]
            data = data[take:]
        if not data:
            return
        self._tail += data
        if len(self._tail) > 2 * self._tail_cap:  # trim rarely, not on every chunk
            self._trim()

    def _trim(self) -> None:
        extra = len(self._tail) - self._tail_cap
        if extra > 0:
            del self._tail[:extra]
            self.dropped += extra

    def text(self) -> str:
        self._trim()
        body = bytes(self._head)
        if self.dropped:
            body += _MARKER.format(self.dropped).encode()
        body += bytes(self._tail)
        return body.decode("utf-8", errors="replace")

    async def drain(self, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(1 << 16):
            self.feed(chunk)
