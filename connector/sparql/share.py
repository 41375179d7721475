"""Each caller's fair share of the query workers.

With one queue for everyone, whoever sends the most slow queries holds every worker: two
anonymous callers resubmitting queries that run to their time limit kept the endpoint from
everyone else. So each caller (an address for anonymous callers, a DID for members: see
callers.py) may run a few queries at once and queue a few more for a worker; beyond that it
is told at once when to come back. A freed worker goes to the waiting caller served least
recently, newcomers first: a quick query waits at most for one query of each hog to end, never
for a hog's whole queue.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Share:
    """What one caller may hold of the workers."""

    running: int  # its queries running at once
    waiting: int  # its queries queued for a worker, beyond those
    timeout: float  # seconds of wall clock for each of its queries


@dataclass(frozen=True)
class Client:
    key: str  # whose share: an address, a network or a DID
    share: Share


class OverShare(Exception):
    """The caller already runs and queues all that its share allows."""

    def __init__(self, share: Share, retry_after: int) -> None:
        super().__init__(
            f"too many queries at once from you (each caller may run {share.running} and queue "
            f"{share.waiting}): try again in {retry_after} s"
        )
        self.retry_after = retry_after


class NoWorker(Exception):
    """No worker came free for this caller in time."""

    def __init__(self, waited: float, retry_after: int) -> None:
        super().__init__(f"every query worker stayed busy for {waited:g} s: try again later")
        self.retry_after = retry_after


@dataclass(eq=False)
class _Caller:
    key: str
    share: Share
    running: list[float] = field(default_factory=list)  # when each running query must be over
    waiting: deque[tuple[int, asyncio.Future[Turn]]] = field(default_factory=deque)
    served: int = 0  # the tick of its latest turn; 0: a newcomer, served first


@dataclass(frozen=True, eq=False)
class Turn:
    caller: _Caller
    deadline: float


class FairShare:
    def __init__(self, workers: int, max_wait: float) -> None:
        self.free = workers
        self.max_wait = max_wait
        self._callers: dict[str, _Caller] = {}
        self._ticks = itertools.count(1)

    async def acquire(self, client: Client) -> Turn:
        """A worker for one query of `client`: at once, after a wait, or OverShare / NoWorker."""
        caller = self._callers.setdefault(client.key, _Caller(client.key, client.share))
        share = caller.share
        if self.free > 0 and len(caller.running) < share.running:
            return self._grant(caller)  # nobody waits while a worker is free for them
        if len(caller.waiting) >= share.waiting:
            self._forget_if_idle(caller)
            raise OverShare(share, _seconds_until(caller.running or self._all_running()))
        turn: asyncio.Future[Turn] = asyncio.get_running_loop().create_future()
        entry = (next(self._ticks), turn)
        caller.waiting.append(entry)
        try:
            async with asyncio.timeout(self.max_wait):
                return await turn
        except TimeoutError:
            self._withdraw(caller, entry)
            raise NoWorker(self.max_wait, _seconds_until(self._all_running())) from None
        except BaseException:
            self._withdraw(caller, entry)
            raise

    def release(self, turn: Turn) -> None:
        turn.caller.running.remove(turn.deadline)
        self.free += 1
        self._dispatch()
        self._forget_if_idle(turn.caller)

    def _grant(self, caller: _Caller) -> Turn:
        self.free -= 1
        caller.served = next(self._ticks)
        turn = Turn(caller, time.monotonic() + caller.share.timeout)
        caller.running.append(turn.deadline)
        return turn

    def _dispatch(self) -> None:
        """Hand free workers to waiting callers under their share, least recently served first."""
        while self.free > 0:
            ready = [
                c for c in self._callers.values() if c.waiting and len(c.running) < c.share.running
            ]
            if not ready:
                return
            caller = min(ready, key=lambda c: (c.served, c.waiting[0][0]))
            _, turn = caller.waiting.popleft()
            if not turn.done():  # done: cancelled, its waiter is on its way out
                turn.set_result(self._grant(caller))

    def _withdraw(self, caller: _Caller, entry: tuple[int, asyncio.Future[Turn]]) -> None:
        """A waiter gives up: its place in the queue, or the worker granted to it meanwhile."""
        turn = entry[1]
        if entry in caller.waiting:
            caller.waiting.remove(entry)
        elif turn.done() and not turn.cancelled():
            self.release(turn.result())
        self._forget_if_idle(caller)

    def _forget_if_idle(self, caller: _Caller) -> None:
        if not caller.running and not caller.waiting and self._callers.get(caller.key) is caller:
            del self._callers[caller.key]

    def _all_running(self) -> list[float]:
        return [deadline for c in self._callers.values() for deadline in c.running]


def _seconds_until(deadlines: list[float]) -> int:
    """Whole seconds until the first of these queries is over, at the latest; at least 1."""
    if not deadlines:
        return 1
    return max(1, math.ceil(min(deadlines) - time.monotonic()))
