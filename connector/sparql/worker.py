"""A query worker process: runs one query at a time against a read-only checkpoint of the store.

Run as `python -m connector.sparql.worker`. It reads one JSON request per line on stdin and
answers with one JSON header line on stdout, followed by `length` bytes of serialized results.
The parent (engine.py) kills it when a query overruns its time; a crash (deep recursion in the
parser, memory exhausted under the address-space limit) only ends this process.

Started with `--replica SNAPSHOT --generation G`, it first copies that checkpoint into memory
(replica.py) and answers from the copy while it is current, patching it with the graphs the
parent says were written since; without a current copy it answers from the checkpoint. Either
way a query sees exactly the checkpoint it names.

Before anything else, it tries to leave the network namespace (a second fence behind guard.py:
even a SERVICE clause that slipped through could reach nothing).

Signals: the engine starts each worker in a process group of its own, so a terminal's Ctrl-C
reaches the node only, which then stops its workers; and a worker dies with the node, even one
deep in a query that would never return to Python to notice.
"""

from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import resource
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported late: the network is left while the process is single-threaded
    from connector.sparql.replica import Replica

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1


def isolate_network() -> bool:
    """Best effort: a fresh network namespace has no interface but a down loopback."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    for flags in (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return True
    return False


def die_with_parent() -> None:
    """Ask the kernel for SIGKILL when the node dies (Linux; elsewhere the closed stdin ends us)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Overflow(Exception):
    pass


class Overtime(Exception):
    pass


class CappedBuffer(io.RawIOBase):
    """Where pyoxigraph serializes results: raising here aborts the serialization at once."""

    def __init__(self, max_bytes: int, deadline: float) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.max_bytes = max_bytes
        self.deadline = deadline

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.size += len(data)
        if self.size > self.max_bytes:
            raise Overflow()
        if time.monotonic() > self.deadline:
            raise Overtime()
        self.chunks.append(bytes(data))
        return len(data)


MAX_PATCH = 10_000  # graphs; beyond, a fresh copy is cheaper than patching


class Worker:
    def __init__(self, replica: Replica | None = None) -> None:
        import pyoxigraph

        self.ox = pyoxigraph
        self.snapshot: str | None = None
        self.store: Any = None
        self.replica = replica

    def open(self, snapshot: str) -> Any:
        if snapshot != self.snapshot:
            self.store = None  # close the old checkpoint before opening the new one
            self.store = self.ox.Store.read_only(snapshot)
            self.snapshot = snapshot
        return self.store

    def source(self, request: dict) -> Any:
        """The store that holds exactly the request's checkpoint: the replica whenever it can."""
        generation, replica = request.get("generation"), self.replica
        if replica is None or generation is None:
            return self.open(request["snapshot"])
        if replica.generation == generation:
            if self.snapshot != request["snapshot"]:
                self.store = self.snapshot = None  # free an old checkpoint's files
            return replica.store
        delta = request.get("delta")
        checkpoint = self.open(request["snapshot"])
        if replica.generation > generation:
            return checkpoint  # a query that picked its checkpoint before the last write
        self.replica = None  # stale, unless the patch below completes
        if delta is not None and len(delta) <= MAX_PATCH:
            try:
                replica.patch(checkpoint, delta, generation)
            except Exception:  # noqa: BLE001 - a half-patched copy is dropped, never served
                return checkpoint
            self.replica = replica
            return replica.store
        return checkpoint  # the parent sees no replica and builds a new worker

    def run(self, request: dict) -> tuple[dict, bytes]:
        from connector.sparql.formats import FORMATS, Kind, choose
        from connector.sparql.guard import names_dataset

        ox = self.ox
        started = time.monotonic()
        deadline = started + request["timeout"]
        store = self.source(request)
        options: dict[str, Any] = {"base_iri": request.get("base_iri")}
        default, named = request.get("default_graphs"), request.get("named_graphs")
        if default is not None or named is not None:
            # a dataset given by the protocol replaces the query's FROM / FROM NAMED (SPARQL 1.1
            # Protocol 2.1.4); the graphs it leaves out are simply absent
            options["default_graph"] = [ox.NamedNode(g) for g in default or []]
            options["named_graphs"] = [ox.NamedNode(g) for g in named or []]
        elif not names_dataset(request["query"]):
            options["use_default_graph_as_union"] = True
        # else pyoxigraph builds the dataset from the query's FROM / FROM NAMED: only graphs of
        # this store, never fetched (a graph that is not here is empty)
        try:
            result = store.query(request["query"], **options)
        except SyntaxError as exc:
            return _error(400, f"malformed query: {exc}"), b""
        except ValueError as exc:
            return _error(400, f"the query cannot be evaluated: {exc}"), b""
        kind = (
            Kind.BOOLEAN
            if isinstance(result, ox.QueryBoolean)
            else Kind.GRAPH
            if isinstance(result, ox.QueryTriples)
            else Kind.SOLUTIONS
        )
        fmt = choose(kind, [tuple(p) for p in request["accept"]])
        if fmt is None:
            offered = ", ".join(f.media for f in FORMATS[kind])
            return _error(
                406, f"the Accept header refuses every format of a {kind} result: {offered}"
            ), b""
        enum = ox.RdfFormat if kind is Kind.GRAPH else ox.QueryResultsFormat
        buffer = CappedBuffer(request["max_bytes"], deadline)
        try:
            result.serialize(buffer, getattr(enum, fmt.name))
        except Overflow:
            return _error(
                422, f"the result is larger than {request['max_bytes']} bytes: add a LIMIT"
            ), b""
        except Overtime:
            return _error(
                503, f"the query ran longer than {request['timeout']:g} s and was stopped"
            ), b""
        except Exception as exc:  # evaluation errors surface while iterating
            return _error(500, f"the query failed: {exc}"), b""
        body = b"".join(buffer.chunks)
        header = {"status": 200, "media": fmt.media, "kind": str(kind), "length": len(body)}
        header["ms"] = round((time.monotonic() - started) * 1000, 2)
        return header, body


def _error(status: int, message: str) -> dict:
    return {"status": status, "message": message, "length": 0}


def _replica(args: argparse.Namespace) -> tuple[Replica | None, str | None]:
    if not args.replica:
        return None, None
    from connector.sparql.replica import Replica

    try:
        return Replica.build(args.replica, args.generation), None
    except (OSError, ValueError, MemoryError) as exc:
        return None, str(exc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-memory", type=int, default=0, help="bytes of heap, 0 for no limit")
    parser.add_argument("--replica", help="a checkpoint to copy into memory before serving")
    parser.add_argument("--generation", type=int, default=0, help="the checkpoint's generation")
    args = parser.parse_args()
    isolated = isolate_network()  # while single-threaded: unshare(CLONE_NEWUSER) requires it
    die_with_parent()  # after unshare: a change of credentials clears the setting
    resource.setrlimit(
        resource.RLIMIT_CORE, (0, 0)
    )  # a crash on a hostile query leaves no core file
    if args.max_memory:
        # RLIMIT_DATA (heap and anonymous maps) rather than RLIMIT_AS: RocksDB maps files
        resource.setrlimit(resource.RLIMIT_DATA, (args.max_memory, args.max_memory))
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must never corrupt the framing
    replica, failure = _replica(args)
    worker = Worker(replica)
    hello = {"ready": True, "isolated": isolated, "pid": os.getpid(), "replica": None}
    if replica is not None:
        hello["replica"] = replica.generation
    if failure:
        hello["failure"] = failure
    out.write(json.dumps(hello).encode() + b"\n")
    out.flush()
    for line in sys.stdin.buffer:
        try:
            header, body = worker.run(json.loads(line))
        except OSError as exc:
            header, body = _error(500, f"the store could not be read: {exc}"), b""
        header["replica"] = worker.replica.generation if worker.replica else None
        out.write(json.dumps(header).encode() + b"\n")
        out.write(body)
        out.flush()


if __name__ == "__main__":
    main()
