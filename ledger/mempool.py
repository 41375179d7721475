"""Transaction pool: checked, de-duplicated, FIFO, with waiters for commit.

Integration points (core):

* ``check_tx(tx) -> (ok, reason)`` is the application's CheckTx, injected; it is synchronous
  because the application runs in-process.
* ``on_added(tx_hash, tx, sender)`` fires for each newly accepted tx: the mempool gossip
  reactor broadcasts it (``sender`` is the peer id it came from, None for local RPC).
* The proposer calls ``reap(max_bytes, max_count)``; after FinalizeBlock + Commit, core calls
  ``update(height, txs, results)`` which drops the committed txs, remembers them so they are
  not accepted again, wakes ``wait_committed`` waiters, and re-checks the remaining txs
  against the new state (``recheck=True``).
* Tx hashes are ``sha256(tx)`` (as in CometBFT).
* Mapping onto ``ledger.consensus.ports.Mempool``: ``add(tx) -> bool`` is ``add(tx).ok``,
  ``update(committed)`` is ``update(height, committed)``; ``reap``/``len`` are the same.

Everything runs on the event loop thread; no locks.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

CheckTx = Callable[[bytes], tuple[bool, str]]
OnAdded = Callable[[bytes, bytes, "str | None"], None]

# Closed set of reasons for ``AddResult.code``.
OK = "ok"
TOO_LARGE = "too_large"
FULL = "full"
DUPLICATE = "duplicate"
COMMITTED = "committed"
REJECTED = "rejected"


def tx_hash(tx: bytes) -> bytes:
    return hashlib.sha256(tx).digest()


@dataclass(frozen=True)
class AddResult:
    ok: bool
    code: str
    hash: bytes
    log: str = ""


@dataclass(frozen=True)
class Committed:
    """Outcome handed to ``wait_committed``: committed at ``height`` (``result`` from core),
    or evicted (``height`` None) because a re-check after a block rejected it."""

    height: int | None
    index: int
    result: Any = None
    log: str = ""


class Mempool:
    def __init__(
        self,
        check_tx: CheckTx,
        *,
        max_tx_bytes: int = 64 << 10,
        max_txs: int = 20_000,
        max_bytes: int = 64 << 20,
        cache_size: int = 100_000,
        recheck: bool = True,
        on_added: OnAdded | None = None,
        recheck_tx: CheckTx | None = None,
    ) -> None:
        self._check_tx = check_tx
        # ABCI's CheckTx of type Recheck: the application may skip what cannot have changed.
        self._recheck_tx = recheck_tx or check_tx
        self.max_tx_bytes = max_tx_bytes
        self.max_txs = max_txs
        self.max_bytes = max_bytes
        self.cache_size = cache_size
        self.recheck = recheck
        self.on_added = on_added
        self._txs: dict[bytes, bytes] = {}  # insertion order is FIFO order
        self._bytes = 0
        self._committed: OrderedDict[bytes, Committed] = OrderedDict()  # bounded LRU
        self._waiters: dict[bytes, list[asyncio.Future[Committed]]] = {}
        self.height = 0

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, h: bytes) -> bool:
        return h in self._txs

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def add(self, tx: bytes, sender: str | None = None) -> AddResult:
        h = tx_hash(tx)
        if len(tx) > self.max_tx_bytes:
            return AddResult(False, TOO_LARGE, h, f"tx of {len(tx)} bytes > {self.max_tx_bytes}")
        if h in self._txs:
            return AddResult(False, DUPLICATE, h, "tx already in mempool")
        if h in self._committed:
            return AddResult(False, COMMITTED, h, "tx already committed")
        if len(self._txs) >= self.max_txs or self._bytes + len(tx) > self.max_bytes:
            return AddResult(False, FULL, h, "mempool is full")
        try:
            ok, reason = self._check_tx(tx)
        except Exception as exc:  # the app must not take the node down with a bad tx
            ok, reason = False, f"check_tx failed: {type(exc).__name__}"
        if not ok:
            return AddResult(False, REJECTED, h, reason)
        self._txs[h] = tx
        self._bytes += len(tx)
        if self.on_added is not None:
            self.on_added(h, tx, sender)
        return AddResult(True, OK, h, reason)

    def reap(self, max_bytes: int = -1, max_count: int = -1) -> list[bytes]:
        """Oldest txs first, up to ``max_bytes`` total and ``max_count`` txs (-1: no limit).

        Stops at the first tx that does not fit so that FIFO order is kept."""
        out: list[bytes] = []
        total = 0
        for tx in self._txs.values():
            if max_count >= 0 and len(out) >= max_count:
                break
            if max_bytes >= 0 and total + len(tx) > max_bytes:
                break
            out.append(tx)
            total += len(tx)
        return out

    def update(
        self,
        height: int,
        committed_txs: Sequence[bytes],
        results: Sequence[Any] | None = None,
    ) -> None:
        """Apply a committed block: drop its txs, cache them, wake waiters, re-check the rest."""
        self.height = height
        for i, tx in enumerate(committed_txs):
            h = tx_hash(tx)
            old = self._txs.pop(h, None)
            if old is not None:
                self._bytes -= len(old)
            info = Committed(height, i, None if results is None else results[i])
            self._remember(h, info)
            self._resolve(h, info)
        if self.recheck and self._txs:
            for h, tx in list(self._txs.items()):
                try:
                    ok, reason = self._recheck_tx(tx)
                except Exception as exc:
                    ok, reason = False, f"check_tx failed: {type(exc).__name__}"
                if not ok:
                    del self._txs[h]
                    self._bytes -= len(tx)
                    self._resolve(h, Committed(None, -1, None, reason))

    def _remember(self, h: bytes, info: Committed) -> None:
        self._committed[h] = info
        self._committed.move_to_end(h)
        while len(self._committed) > self.cache_size:
            self._committed.popitem(last=False)

    def _resolve(self, h: bytes, info: Committed) -> None:
        for fut in self._waiters.pop(h, ()):
            if not fut.done():
                fut.set_result(info)

    def committed(self, h: bytes) -> Committed | None:
        """Commit info of a recently committed tx (bounded cache), else None."""
        return self._committed.get(h)

    async def wait_committed(self, h: bytes, timeout: float) -> Committed | None:
        """Wait until tx ``h`` is committed (or evicted); None on timeout."""
        known = self._committed.get(h)
        if known is not None:
            return known
        fut: asyncio.Future[Committed] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(h, []).append(fut)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return None
        finally:
            waiters = self._waiters.get(h)
            if waiters is not None:
                if fut in waiters:
                    waiters.remove(fut)
                if not waiters:
                    del self._waiters[h]

    def flush(self) -> None:
        """Drop every pending tx (operator action; waiters keep waiting until timeout)."""
        self._txs.clear()
        self._bytes = 0
