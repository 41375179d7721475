"""Bounded ingestion: transactions from clients and peers wait here, not in CheckTx on the spot.

A validator's event loop also runs consensus; a flood of transactions checked the moment they
arrive would starve proposals and votes. So the RPC and the mempool channel only *offer* a
transaction: it is queued (or refused as busy), and one worker drains the queue in slices of a
few milliseconds, yielding to the loop between slices, so consensus messages are handled
within a slice of arriving whatever the backlog.

Two lanes: clients' transactions are checked before gossiped ones (a gossiped transaction is
already in its origin's mempool and reaches a block through that node's proposals anyway), and
gossip has a smaller bound. A client is told "busy" when the queue is full, the mempool is
full, or the oldest client transaction has waited more than `max_wait` seconds: under
overload an answer comes at once instead of after a long wait.

Each loop iteration grants ingestion `slice_seconds` of CheckTx. A client's transaction that
finds its lane empty and budget left is checked on the spot (the RPC answers a batch it reads
one transaction at a time without a round trip through the queue for each); otherwise it
waits for the worker, which spends the same budget.

When the application lists a transaction's signatures (`abci.SignedTxs`), a whole batch is
verified on a worker thread first (libsodium releases the GIL) and the valid triples are
cached, so the application's CheckTx on the loop finds them already checked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from . import crypto
from .mempool import AddResult, tx_hash

log = logging.getLogger("ledger.ingest")

Admit = Callable[[bytes, "str | None"], AddResult]
Signatures = Callable[[bytes], list[crypto.Triple]]
BUSY = "busy"


@dataclass
class _Item:
    tx: bytes
    hash: bytes
    sender: str | None
    reply: asyncio.Future[AddResult] | None  # None: gossiped, nobody waits
    since: float = 0.0


class Ingest:
    """`offer` queues a transaction; `admit(tx, sender)` (CheckTx + mempool) runs later."""

    def __init__(self, admit: Admit, *, signatures: Signatures | None = None,
                 capacity: int = 5000, gossip_capacity: int = 2000,
                 max_bytes: int = 16 << 20, max_wait: float = 2.0, batch: int = 256,
                 slice_seconds: float = 0.004,
                 room: Callable[[], int] | None = None) -> None:
        self.admit = admit
        self.signatures = signatures
        self.capacity = capacity
        self.gossip_capacity = gossip_capacity
        self.max_bytes = max_bytes
        self.max_wait = max_wait
        self.batch = batch
        self.slice_seconds = slice_seconds
        self.room = room  # how many more the mempool takes (None: unbounded)
        self.stats = {"accepted": 0, "rejected": 0, "busy": 0, "dropped": 0, "preverified": 0}
        self._clients: deque[_Item] = deque()
        self._gossip: deque[_Item] = deque()
        self._queued: dict[bytes, _Item] = {}  # by hash, queued or being checked
        self._bytes = 0
        self._wake = asyncio.Event()
        self._spent = 0.0  # CheckTx seconds used in this loop iteration
        self._reset_scheduled = False
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        """Transactions waiting (queued or being checked)."""
        return len(self._queued)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for it in self._queued.values():
            if it.reply is not None and not it.reply.done():
                it.reply.cancel()
        self._clients.clear()
        self._gossip.clear()
        self._queued.clear()

    def busy(self, size: int = 0, gossip: bool = False) -> bool:
        n = len(self._queued)
        if n >= self.capacity or self._bytes + size > self.max_bytes:
            return True
        if gossip and len(self._gossip) >= self.gossip_capacity:
            return True
        if self.room is not None and self.room() <= n:
            return True
        oldest = self._clients[0].since if self._clients else None
        return oldest is not None and time.monotonic() - oldest > self.max_wait

    def offer(self, tx: bytes, sender: str | None = None,
              ) -> asyncio.Future[AddResult] | None:
        """Queue ``tx``; a future of its CheckTx result, or None when the node is busy (for a
        gossiped tx: dropped, the sender is not at fault). A tx already queued shares the
        first one's result."""
        h = tx_hash(tx)
        old = self._queued.get(h)
        if old is not None:
            if sender is not None:
                return None
            if old.reply is None:
                old.reply = asyncio.get_running_loop().create_future()
            return old.reply
        if self.busy(len(tx), gossip=sender is not None):
            self.stats["busy" if sender is None else "dropped"] += 1
            return None
        loop = asyncio.get_running_loop()
        reply = None if sender is not None else loop.create_future()
        if reply is not None and not self._clients and self._spent < self.slice_seconds:
            it = _Item(tx, h, sender, reply)
            self._queued[h] = it
            self._bytes += len(tx)
            self._admit(it)  # budget left: check it now
            return reply
        it = _Item(tx, h, sender, reply, time.monotonic())
        (self._clients if sender is None else self._gossip).append(it)
        self._queued[h] = it
        self._bytes += len(tx)
        self._wake.set()
        return reply

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._clients and not self._gossip:
                self._wake.clear()
                await self._wake.wait()
            items = self._take()
            if self.signatures is not None:
                await self._preverify(loop, items)
            for it in items:
                if self._spent >= self.slice_seconds:
                    await asyncio.sleep(0)  # let consensus messages and timers run first
                self._admit(it)
            await asyncio.sleep(0)

    def _take(self) -> list[_Item]:
        items: list[_Item] = []
        for lane in (self._clients, self._gossip):
            while lane and len(items) < self.batch:
                items.append(lane.popleft())
        return items

    def _reset(self) -> None:
        self._spent, self._reset_scheduled = 0.0, False

    def _admit(self, it: _Item) -> None:
        if not self._reset_scheduled:  # the budget is per loop iteration
            self._reset_scheduled = True
            asyncio.get_running_loop().call_soon(self._reset)
        t0 = time.perf_counter()
        try:
            res = self.admit(it.tx, it.sender)
        except Exception as exc:  # one bad transaction must not stop ingestion
            log.exception("admitting a transaction failed")
            res = AddResult(False, "rejected", it.hash, f"check failed: {type(exc).__name__}")
        self._spent += time.perf_counter() - t0
        self._queued.pop(it.hash, None)
        self._bytes -= len(it.tx)
        self.stats["accepted" if res.ok else "rejected"] += 1
        if it.reply is not None and not it.reply.done():
            it.reply.set_result(res)

    async def _preverify(self, loop: asyncio.AbstractEventLoop, items: list[_Item]) -> None:
        sigs = self.signatures
        assert sigs is not None

        def listed(tx: bytes) -> list[crypto.Triple]:
            try:
                return sigs(tx)
            except Exception:  # malformed: CheckTx will say why
                return []

        def work() -> list[crypto.Triple]:
            # A block may have brought some first (`blocksigs`): those are not checked again.
            triples = [t for it in items for t in listed(it.tx) if not crypto.known_valid(*t)]
            return [t for t, ok in zip(triples, crypto.check_many(triples), strict=True) if ok]

        valid = await loop.run_in_executor(None, work)
        crypto.remember_valid(valid)
        self.stats["preverified"] += len(valid)
