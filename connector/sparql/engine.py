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
stops at the result cap. The event loop only moves bytes through pipes. Which query gets a
worker next, and how long it may run, is the caller's share (share.py).

RocksDB allows one read-write opener, and opening read-only while another process writes is
undefined behaviour. So workers never open the live store: before a query, if the store has
been written since, the engine publishes a checkpoint (RocksDB hard links, ~10 ms) and the
worker opens that read-only. Each query therefore sees every write committed before it, and
each write whole. Checkpoints no worker holds any more are deleted.

Costs measured here: a round trip through a worker adds ~0.3-0.5 ms to a query; a worker starts
in ~0.2 s; read-only checkpoints answer as fast as the live store. A worker whose parent dies
sees end-of-file on its stdin and exits.

In-memory replicas (replica.py): on a big catalog the time goes into pyoxigraph's evaluation,
not the hop (py-spy, 4 clients on 2 cores: the HTTP process is ~20% busy), and a RocksDB
checkpoint evaluates the catalog queries 3-7x slower than an in-memory store. So a background
task replaces, one at a time, each worker without a usable replica by one that copied the
current checkpoint into memory before it joined the pool: for 1M triples ~25-45 s each and
~0.5 GB per worker (Limits.replica_max_bytes bounds the store size); the node answers from
checkpoints meanwhile, so it starts as fast as before. After a write, the engine tells the
worker which graphs changed since its copy (RdfStore.changed_since) and the worker patches
them in from the new checkpoint before it runs the query; a bulk load, which does not say
what it changed, makes the replicas stale: they are dropped and rebuilt once writes pause.
Queries never see stale data: a worker uses its copy only when it holds exactly the
checkpoint the query names. Timeouts, the result cap and the memory limit apply as before.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from connector.sparql.share import Client, FairShare, NoWorker, OverShare, Share
from connector.sparql.store import RdfStore

log = logging.getLogger("communs.sparql")
SPAWN_TIMEOUT = 60.0  # a cold Python start with imports, on a loaded machine
EXIT_TIMEOUT = 10.0  # how long a worker that closed its pipe may take to exit, on a loaded machine
REPLICA_TIMEOUT = 900.0  # a start that first copies a big checkpoint into memory
REPLICA_RETRY = 60.0  # seconds before trying again after a replica failed to build, doubling
REPLICA_RETRY_MAX = 3600.0
REPLICA_QUIET = 1.0  # seconds without writes before a replica is built
NODE_ITSELF = "node"  # the share of in-process callers (never an address or a DID)


@dataclass(frozen=True)
class Limits:
    # each caller's share of the workers (share.py): anonymous callers per address, members per
    # DID; a share's timeout is the wall clock for one query, waiting for a worker not included
    anonymous: Share = Share(running=1, waiting=4, timeout=5.0)
    member: Share = Share(running=2, waiting=8, timeout=10.0)  # also the node's own queries
    max_result_bytes: int = 32 * 1024 * 1024
    # a hostile query holds one worker until its timeout: keep at least two
    workers: int = field(default_factory=lambda: min(8, max(2, os.cpu_count() or 2)))
    max_memory: int = 2 * 1024 * 1024 * 1024  # heap of one worker
    queue_timeout: float = 10.0  # how long a query may wait for a worker
    # in-memory replicas in the workers, for checkpoints up to this size on disk (a replica
    # takes ~2x that in memory, ~3x while it is built: keep it well below max_memory); 0: none
    replica_max_bytes: int = 320 * 1024 * 1024


@dataclass
class Answer:
    status: int
    media: str | None = None
    body: bytes = b""
    message: str | None = None
    kind: str | None = None
    retry_after: int | None = None  # seconds, when asking again later can succeed


class WorkerDied(Exception):
    pass


class _Process:
    def __init__(self, proc: asyncio.subprocess.Process, isolated: bool) -> None:
        self.proc = proc
        self.isolated = isolated
        self.holds: set[str] = set()  # checkpoints this process may have open
        self.replica: int | None = None  # the generation of its in-memory copy, if any

    @classmethod
    async def spawn(cls, max_memory: int, replica: tuple[Path, int] | None = None) -> _Process:
        extra = ["--replica", str(replica[0]), "--generation", str(replica[1])] if replica else []
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "connector.sparql.worker",
            "--max-memory",
            str(max_memory),
            *extra,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
            process_group=0,  # out of the terminal's reach: Ctrl-C stops the node, which stops us
        )
        try:
            wait = REPLICA_TIMEOUT if replica else SPAWN_TIMEOUT
            line = await asyncio.wait_for(proc.stdout.readline(), wait)  # type: ignore[union-attr]
            hello = json.loads(line)
        except (TimeoutError, ValueError):
            proc.kill()
            await proc.wait()
            raise WorkerDied("a query worker failed to start") from None
        except BaseException:
            proc.kill()
            await proc.wait()
            raise
        process = cls(proc, bool(hello.get("isolated")))
        process.replica = hello.get("replica")
        if replica and process.replica is None:
            log.warning("sparql: no in-memory replica: %s", hello.get("failure", "unknown"))
        if replica:
            process.holds = {str(replica[0])}
        return process

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
        self.replica = header.get("replica")
        return header, body

    async def ended(self) -> None:
        """Wait, boundedly, for a worker that closed its pipe to finish exiting by itself.

        Killing it at once would race asyncio's child watcher: Popen.send_signal() first reaps
        a dead child itself, and asyncio then reports status 255 instead of the crash's signal.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(EXIT_TIMEOUT):
                await self.proc.wait()

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
        self.share = FairShare(self.limits.workers, self.limits.queue_timeout)
        self._idle: list[_Process] = []
        self._all: set[_Process] = set()
        self._publish = asyncio.Lock()
        self._current: Path | None = None
        self._published = -1
        self._names = itertools.count()
        self._building: set[str] = set()  # checkpoints being copied into a new worker
        self._wanted = asyncio.Event()  # some worker lacks a replica
        self._refresher: asyncio.Task | None = None
        self._retry = REPLICA_RETRY
        self._closed = False

    @property
    def isolated(self) -> bool:
        """Whether every live worker runs without network access."""
        return bool(self._all) and all(p.isolated for p in self._all)

    async def start(self) -> None:
        await asyncio.to_thread(shutil.rmtree, self.snapshots, True)  # left by a previous run
        self.snapshots.mkdir(parents=True)
        spawned = await asyncio.gather(*(self._spawn() for _ in range(self.limits.workers)))
        self._idle.extend(spawned)
        if self.limits.replica_max_bytes > 0:
            self._refresher = asyncio.create_task(self._refresh(), name="sparql-replicas")
            self._wanted.set()

    @property
    def replicated(self) -> int:
        """How many workers hold an in-memory copy that is current or can be patched to be."""
        return sum(1 for p in self._all if self._usable(p))

    def _usable(self, process: _Process) -> bool:
        return process.replica is not None and self.store.changed_since(process.replica) is not None

    async def close(self) -> None:
        self._closed = True  # a query that outlives the HTTP server must start no worker
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        await asyncio.gather(*(p.kill() for p in list(self._all)))
        self._all.clear()
        self._idle.clear()
        await asyncio.to_thread(shutil.rmtree, self.snapshots, True)

    async def execute(
        self,
        query: str,
        accept: Preferences,
        *,
        client: Client | None = None,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
    ) -> Answer:
        """Run `query` within `client`'s share of the workers (by default the node's own)."""
        client = client or Client(NODE_ITSELF, self.limits.member)
        try:
            turn = await self.share.acquire(client)
        except OverShare as exc:
            return Answer(429, message=str(exc), retry_after=exc.retry_after)
        except NoWorker as exc:
            return Answer(503, message=str(exc), retry_after=exc.retry_after)
        try:
            return await self._run(
                {
                    "query": query,
                    "accept": accept,
                    "default_graphs": default_graphs,
                    "named_graphs": named_graphs,
                    "base_iri": base_iri,
                    "timeout": client.share.timeout,
                    "max_bytes": self.limits.max_result_bytes,
                }
            )
        finally:
            self.share.release(turn)

    async def _run(self, request: dict) -> Answer:
        """One query on a worker that the caller's turn holds."""
        try:
            snapshot, generation = await self._snapshot()
            worker = self._take(generation) if self._idle else await self._spawn()
        except (WorkerDied, OSError, ConnectorError) as exc:
            log.error("sparql: cannot run a query: %s", exc)
            return Answer(500, message="the query engine is unavailable")
        request |= {
            "snapshot": str(snapshot),
            "generation": generation,
            "delta": self._delta(worker, generation),
        }
        timeout = request["timeout"]
        try:
            # the worker checks the deadline itself while serializing; the grace lets it
            # answer cleanly before we kill it
            async with asyncio.timeout(timeout + 0.5):
                header, body = await worker.ask(request)
        except TimeoutError:
            await self._discard(worker)
            return Answer(503, message=f"the query ran longer than {timeout:g} s and was stopped")
        except WorkerDied:
            await worker.ended()
            await self._discard(worker)
            return Answer(500, message=worker.death())
        except BaseException:  # cancelled mid-answer: its pipe holds a half-read reply
            await asyncio.shield(self._discard(worker))
            raise
        self._release(worker)
        if header["status"] != 200:
            return Answer(header["status"], message=header.get("message"))
        return Answer(200, media=header["media"], body=body, kind=header.get("kind"))

    async def _spawn(self) -> _Process:
        if self._closed:
            raise WorkerDied("the query engine is stopped")
        process = await _Process.spawn(self.limits.max_memory)
        if self._closed:  # closed while it started: close() did not see it
            await process.kill()
            raise WorkerDied("the query engine is stopped")
        self._all.add(process)
        self._wanted.set()
        return process

    def _take(self, generation: int) -> _Process:
        """An idle worker, preferably one whose replica is current (no patch to apply)."""
        for i in range(len(self._idle) - 1, -1, -1):
            if self._idle[i].replica == generation:
                return self._idle.pop(i)
        for i in range(len(self._idle) - 1, -1, -1):
            if self._idle[i].replica is not None:
                return self._idle.pop(i)
        return self._idle.pop()

    def _release(self, worker: _Process) -> None:
        self._idle.append(worker)
        if not self._usable(worker):
            self._wanted.set()  # the refresher replaces it, or retires it if surplus

    def _delta(self, worker: _Process, generation: int) -> list[str] | None:
        """The graphs to patch into the worker's replica to bring it to `generation`."""
        if worker.replica is None or worker.replica >= generation:
            return None
        changed = self.store.changed_since(worker.replica)
        return sorted(changed) if changed is not None else None

    async def _refresh(self) -> None:
        """Replace, one at a time, each worker that lacks a replica with one that has one."""
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            while self.replicated < self.limits.workers:
                await self._quiet()
                try:
                    built = await self._build()
                except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                    log.warning("sparql: an in-memory replica failed to build: %s", exc)
                    built = False
                await self._retire()
                if not built:  # too big, or it crashed (out of memory?): not again at once
                    await asyncio.sleep(self._retry)
                    self._retry = min(2 * self._retry, REPLICA_RETRY_MAX)
                    break
                self._retry = REPLICA_RETRY
            await self._retire()

    async def _quiet(self) -> None:
        """Wait until writes pause: a copy made in the middle of an import is stale at once."""
        while True:
            before = self.store.generation
            await asyncio.sleep(REPLICA_QUIET)
            if self.store.generation == before:
                return

    async def _build(self) -> bool:
        snapshot, generation = await self._snapshot()
        size = await asyncio.to_thread(_size, snapshot)
        if size > self.limits.replica_max_bytes:
            log.info("sparql: the store (%d bytes) is too big for in-memory replicas", size)
            return False
        self._building.add(str(snapshot))
        try:
            process = await _Process.spawn(self.limits.max_memory, (snapshot, generation))
        finally:
            self._building.discard(str(snapshot))
        if process.replica is None:
            await process.kill()
            return False
        self._all.add(process)
        self._idle.append(process)
        return True

    async def _retire(self) -> None:
        """Stop idle workers without a usable replica while there are more workers than slots."""
        while len(self._all) > self.limits.workers:
            old = next((p for p in self._idle if not self._usable(p)), None)
            if old is None:
                return  # busy: retired when it comes back
            self._idle.remove(old)
            await self._discard(old)

    async def _discard(self, process: _Process) -> None:
        self._all.discard(process)
        self._wanted.set()  # the pool lost a worker: the refresher brings one with a replica
        await process.kill()

    async def _snapshot(self) -> tuple[Path, int]:
        if self._current is not None and self.store.generation == self._published:
            return self._current, self._published
        async with self._publish:
            if self._current is None or self.store.generation != self._published:
                target = self.snapshots / f"{next(self._names):08d}"
                self._published = await asyncio.to_thread(self.store.checkpoint, target)
                self._current = target
                await asyncio.to_thread(self._collect)
            return self._current, self._published

    def _collect(self) -> None:
        """Delete the checkpoints that neither the present nor any live worker holds."""
        keep = {str(self._current)} | {h for p in self._all for h in p.holds} | self._building
        for child in self.snapshots.iterdir():
            if str(child) not in keep:
                shutil.rmtree(child, ignore_errors=True)


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
