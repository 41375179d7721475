"""Per-client bounds on transaction submission: each remote address may have a few requests
in flight and submit at a steady rate (a token bucket counted in transactions), so that one
client cannot fill the mempool or hold every connection; beyond that it is told to retry."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .jsonrpc import SERVER_BUSY, RpcFault


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    in_flight: int = 0


class TxLimiter:
    def __init__(self, rate: float = 2000.0, burst: int = 4000,
                 max_in_flight: int = 32) -> None:
        self.rate, self.burst, self.max_in_flight = rate, burst, max_in_flight
        self._clients: dict[str, _Bucket] = {}

    def _bucket(self, client: str) -> _Bucket:
        now = time.monotonic()
        b = self._clients.get(client)
        if b is None:
            if len(self._clients) >= 4096:  # forget idle clients with a full bucket
                for k in [k for k, v in self._clients.items()
                          if v.in_flight == 0 and now - v.stamp > self.burst / self.rate]:
                    del self._clients[k]
            b = self._clients[client] = _Bucket(float(self.burst), now)
        b.tokens = min(float(self.burst), b.tokens + (now - b.stamp) * self.rate)
        b.stamp = now
        return b

    def in_flight(self, client: str) -> int:
        b = self._clients.get(client)
        return 0 if b is None else b.in_flight

    @contextmanager
    def admit(self, client: str, txs: int) -> Iterator[None]:
        """Hold a slot for `txs` transactions from `client`, or raise a busy RpcFault. A
        batch larger than the burst passes when the bucket is full and leaves it in debt."""
        b = self._bucket(client)
        if b.in_flight >= self.max_in_flight:
            raise RpcFault(SERVER_BUSY, f"busy: too many transactions from {client} "
                           f"({b.in_flight} requests in flight), retry in 1 s", retry_after=1)
        need = min(float(txs), float(self.burst))
        if b.tokens < need:
            wait = max(1, math.ceil((need - b.tokens) / self.rate))
            raise RpcFault(SERVER_BUSY, f"busy: too many transactions from {client}, "
                           f"retry in {wait} s", retry_after=wait)
        b.tokens -= txs
        b.in_flight += 1
        try:
            yield
        finally:
            b.in_flight -= 1
