"""Query execution with a wall-clock timeout and a result cap that really stop a hostile query.

Why worker processes, not threads (measured on pyoxigraph 0.5.13):

- pyoxigraph releases the GIL while it evaluates, so threads would keep the event loop
  responsive, but nothing can interrupt a query from Python: `SELECT (COUNT(*) AS ?n)
  { ?a ?b ?c . ?d ?e ?f }` yields nothing until it has enumerated the whole product, so a deadline
  checked between results never fires, and the thread burns a core until the product ends.
- pyoxigraph's parser recurses: a query nested a few thousand levels deep kills the process
  with SIGSEGV. guard.py bounds the nesting, but a crash must still never take the node down.
- a SERVICE clause makes pyoxigraph fetch the remote endpoint over HTTP.

So queries run in a small pool of `python -m connector.sparql.worker` processes. A query that
overruns its time is SIGKILLed with its process, which is replaced on demand; a crash is an
error answer; the answer is serialized by pyoxigraph inside the worker into a buffer that
stops at the result cap. The event loop only moves bytes through pipes.

RocksDB allows one read-write opener, and opening read-only while another process writes is
undefined behaviour. So workers never open the live store: before a query, if the store has
been written since, the engine publishes a checkpoint (RocksDB hard links, ~10 ms) and the
worker opens that read-only. Each query therefore sees every write committed before it, and
each write whole. Checkpoints no worker holds any more are deleted.

Costs measured here: a round trip through a worker adds ~0.3-0.5 ms to a query; a worker starts
in ~0.2 s; read-only checkpoints answer as fast as the live store. A worker whose parent dies
sees end-of-file on its stdin and exits.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import shutil
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from connector.errors import ConnectorError
from connector.sparql.formats import Preferences
from connector.sparql.store import RdfStore

log = logging.getLogger("communs.sparql")
SPAWN_TIMEOUT = 60.0  # a cold Python start with imports, on a loaded machine


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # seconds of wall clock per query, waiting for a worker not included
    max_result_bytes: int = 32 * 1024 * 1024
    # a hostile query holds one worker until its timeout: keep at least two
    workers: int = field(default_factory=lambda: min(8, max(2, os.cpu_count() or 2)))
    max_memory: int = 2 * 1024 * 1024 * 1024  # heap of one worker
    queue_timeout: float = 10.0  # how long a query may wait for a free worker


@dataclass
class Answer:
    status: int
    media: str | None = None
    body: bytes = b""
    message: str | None = None
    kind: str | None = None


class WorkerDied(Exception):
    pass


class _Process:
    def __init__(self, proc: asyncio.subprocess.Process, isolated: bool) -> None:
        self.proc = proc
        self.isolated = isolated
        self.holds: set[str] = set()  # checkpoints this process may have open

    @classmethod
    async def spawn(cls, max_memory: int) -> _Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "connector.sparql.worker",
            "--max-memory",
            str(max_memory),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), SPAWN_TIMEOUT)  # type: ignore[union-attr]
            hello = json.loads(line)
        except (TimeoutError, ValueError):
            proc.kill()
            await proc.wait()
            raise WorkerDied("a query worker failed to start") from None
        return cls(proc, bool(hello.get("isolated")))

    async def ask(self, request: dict) -> tuple[dict, bytes]:
        assert self.proc.stdin and self.proc.stdout
        self.holds.add(request["snapshot"])
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            await self.proc.stdin.drain()
            line = await self.proc.stdout.readline()
            if not line:
                raise WorkerDied()
            header = json.loads(line)
            body = await self.proc.stdout.readexactly(header["length"])
        except (ConnectionError, asyncio.IncompleteReadError):
            raise WorkerDied() from None
        self.holds = {request["snapshot"]}
        return header, body

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()

    def death(self) -> str:
        code = self.proc.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory?)" if -code == signal.SIGABRT else ""
            return f"the query engine crashed on this query with {name}{hint}"
        return f"the query engine stopped on this query (exit {code})"


class SparqlEngine:
    def __init__(self, store: RdfStore, snapshots: Path, limits: Limits | None = None) -> None:
        self.store = store
        self.snapshots = snapshots
        self.limits = limits or Limits()
        self._slots = asyncio.Semaphore(self.limits.workers)
        self._idle: list[_Process] = []
        self._all: set[_Process] = set()
        self._publish = asyncio.Lock()
        self._current: Path | None = None
        self._published = -1
        self._names = itertools.count()

    @property
    def isolated(self) -> bool:
        """Whether every live worker runs without network access."""
        return bool(self._all) and all(p.isolated for p in self._all)

    async def start(self) -> None:
        await asyncio.to_thread(shutil.rmtree, self.snapshots, True)  # left by a previous run
        self.snapshots.mkdir(parents=True)
        spawned = await asyncio.gather(*(self._spawn() for _ in range(self.limits.workers)))
        self._idle.extend(spawned)

    async def close(self) -> None:
        await asyncio.gather(*(p.kill() for p in list(self._all)))
        self._all.clear()
        self._idle.clear()
        await asyncio.to_thread(shutil.rmtree, self.snapshots, True)

    async def execute(
        self,
        query: str,
        accept: Preferences,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
    ) -> Answer:
        limits = self.limits
        try:
            # asyncio.timeout, not wait_for: no extra task per request on the hot path
            async with asyncio.timeout(limits.queue_timeout):
                await self._slots.acquire()
        except TimeoutError:
            return Answer(
                503,
                message=f"every query worker stayed busy for {limits.queue_timeout:g} s: try again later",
            )
        try:
            try:
                snapshot = await self._snapshot()
                worker = self._idle.pop() if self._idle else await self._spawn()
            except (WorkerDied, OSError, ConnectorError) as exc:
                log.error("sparql: cannot run a query: %s", exc)
                return Answer(500, message="the query engine is unavailable")
            request = {
                "snapshot": str(snapshot),
                "query": query,
                "accept": accept,
                "default_graphs": default_graphs,
                "named_graphs": named_graphs,
                "base_iri": base_iri,
                "timeout": limits.timeout,
                "max_bytes": limits.max_result_bytes,
            }
            try:
                # the worker checks the deadline itself while serializing; the grace lets it
                # answer cleanly before we kill it
                async with asyncio.timeout(limits.timeout + 0.5):
                    header, body = await worker.ask(request)
            except TimeoutError:
                await self._discard(worker)
                return Answer(
                    503, message=f"the query ran longer than {limits.timeout:g} s and was stopped"
                )
            except WorkerDied:
                await self._discard(worker)
                return Answer(500, message=worker.death())
            except BaseException:  # cancelled mid-answer: its pipe holds a half-read reply
                await asyncio.shield(self._discard(worker))
                raise
            self._idle.append(worker)
            if header["status"] != 200:
                return Answer(header["status"], message=header.get("message"))
            return Answer(200, media=header["media"], body=body, kind=header.get("kind"))
        finally:
            self._slots.release()

    async def _spawn(self) -> _Process:
        process = await _Process.spawn(self.limits.max_memory)
        self._all.add(process)
        return process

    async def _discard(self, process: _Process) -> None:
        self._all.discard(process)
        await process.kill()

    async def _snapshot(self) -> Path:
        if self._current is not None and self.store.generation == self._published:
            return self._current
        async with self._publish:
            if self._current is None or self.store.generation != self._published:
                target = self.snapshots / f"{next(self._names):08d}"
                self._published = await asyncio.to_thread(self.store.checkpoint, target)
                self._current = target
                await asyncio.to_thread(self._collect)
            return self._current

    def _collect(self) -> None:
        """Delete the checkpoints that neither the present nor any live worker holds."""
        keep = {str(self._current)} | {h for p in self._all for h in p.holds}
        for child in self.snapshots.iterdir():
            if str(child) not in keep:
                shutil.rmtree(child, ignore_errors=True)
