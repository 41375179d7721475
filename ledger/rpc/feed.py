"""Fan-out of node events to subscribers, with bounded queues."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any


class EventFeed:
    """A subscriber that falls ``max_queue`` events behind is dropped (its iterator ends)
    instead of slowing the node."""

    _END = object()

    def __init__(self, max_queue: int = 256) -> None:
        self.max_queue = max_queue
        self._subs: set[asyncio.Queue[Any]] = set()

    def __len__(self) -> int:
        return len(self._subs)

    def publish(self, event: Any) -> None:
        for q in list(self._subs):
            if q.qsize() >= self.max_queue:
                self._subs.discard(q)  # it gets what it has, then its stream ends
                q.put_nowait(self._END)
            else:
                q.put_nowait(event)

    def close(self) -> None:
        for q in self._subs:
            q.put_nowait(self._END)
        self._subs.clear()

    async def subscribe(self) -> AsyncIterator[Any]:
        q: asyncio.Queue[Any] = asyncio.Queue()
        self._subs.add(q)
        try:
            while True:
                item = await q.get()
                if item is self._END:
                    return
                yield item
        finally:
            self._subs.discard(q)
