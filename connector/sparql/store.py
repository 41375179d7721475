"""The node's RDF store: one persistent pyoxigraph (RocksDB) store, written only through this API.

The catalog keeps one named graph per dataset and one for the self-description; queries see
the union of the named graphs as their default graph. The HTTP endpoint never writes: it reads
checkpoints that `checkpoint()` publishes (see engine.py), so a replaced graph becomes visible to
queries all at once, and only whole.

Every method that touches RocksDB runs in a thread: a bulk load or a big replace would otherwise
stall the event loop (pyoxigraph releases the GIL while it works).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from connector.errors import ConnectorError, Reason

# the media types (and short names) writers may hand in
RDF_INPUT = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "json-ld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
}


CHANGE_LOG = 4096  # writes remembered for changed_since()


def rdf_format(name: str | ox.RdfFormat) -> ox.RdfFormat:
    if isinstance(name, ox.RdfFormat):
        return name
    try:
        return RDF_INPUT[name.split(";")[0].strip().lower()]
    except KeyError:
        raise ConnectorError(Reason.BAD_INPUT, f"unsupported RDF format {name!r}") from None


def graph_node(iri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"{iri!r} is not a valid graph IRI: {exc}") from None


class RdfStore:
    """A persistent store; `generation` counts committed writes so readers know when to refresh."""

    def __init__(self, store: ox.Store, path: Path) -> None:
        self._store: ox.Store | None = store
        self.path = path
        self.generation = 0
        # writes and checkpoints never interleave: a checkpoint holds whole writes only
        self._lock = threading.Lock()
        # (generation, graph written or None for "anything"): lets query workers patch their
        # in-memory replicas graph by graph instead of copying the whole store again
        self._changes: deque[tuple[int, str | None]] = deque(maxlen=CHANGE_LOG)
        # guards generation and the log only, never held across RocksDB work: the event loop
        # reads the log on every query
        self._log_lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> RdfStore:
        path.mkdir(parents=True, exist_ok=True)
        try:
            return cls(ox.Store(str(path)), path)
        except OSError as exc:
            if "lock" in str(exc).lower():  # RocksDB admits one read-write opener at a time
                message = (
                    f"the RDF store in {path} is in use by another process (is the node serving?)"
                )
            else:
                message = f"cannot open the RDF store in {path}: {exc}"
            raise ConnectorError(Reason.STORAGE, message) from None

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            raise ConnectorError(Reason.STORAGE, "the RDF store is closed")
        return self._store

    def close(self) -> None:
        if self._store is not None:
            with self._lock:
                self._store.flush()
                self._store = None  # dropping the last reference releases RocksDB's lock

    # ---- writes -------------------------------------------------------------------------

    async def replace_graph(
        self,
        graph: str,
        data: bytes | str,
        format: str | ox.RdfFormat = "text/turtle",
        base_iri: str | None = None,
    ) -> int:
        """Replace named graph `graph` with the triples of `data`, atomically; returns their count."""
        graph_node(graph)
        fmt = rdf_format(format)
        try:
            triples = [
                q.triple
                for q in ox.parse(data, fmt, base_iri=base_iri or graph, without_named_graphs=True)
            ]
        except (SyntaxError, ValueError) as exc:
            raise ConnectorError(
                Reason.BAD_INPUT, f"the RDF for graph {graph} is invalid: {exc}"
            ) from None
        return await self.replace_graph_triples(graph, triples)

    async def replace_graph_triples(self, graph: str, triples: Iterable[ox.Triple]) -> int:
        node = graph_node(graph)
        body = " .\n".join(str(t) for t in triples)
        # one SPARQL update is one RocksDB transaction: readers never see the graph half replaced,
        # and a crash leaves either the old or the new graph
        update = f"DROP SILENT GRAPH {node} ;\nINSERT DATA {{ GRAPH {node} {{\n{body}\n}} }}"
        await asyncio.to_thread(self._write, lambda s: s.update(update), graph)
        return body.count(" .\n") + 1 if body else 0

    async def remove_graph(self, graph: str) -> None:
        node = graph_node(graph)
        await asyncio.to_thread(self._write, lambda s: s.update(f"DROP SILENT GRAPH {node}"), graph)

    async def bulk_load(
        self,
        data: bytes | str | None = None,
        format: str | ox.RdfFormat = "application/n-quads",
        *,
        path: Path | None = None,
        graph: str | None = None,
        base_iri: str | None = None,
    ) -> None:
        """Load a big file fast (imports): not transactional, so only for data nobody reads yet."""
        fmt = rdf_format(format)
        to_graph = graph_node(graph) if graph else None

        def load(store: ox.Store) -> None:
            try:
                store.bulk_load(
                    data,
                    fmt,
                    path=str(path) if path else None,
                    to_graph=to_graph,
                    base_iri=base_iri,
                )
            except (SyntaxError, ValueError) as exc:
                raise ConnectorError(
                    Reason.BAD_INPUT, f"the RDF to import is invalid: {exc}"
                ) from None

        await asyncio.to_thread(self._write, load, None)

    def _write(self, action, graph: str | None) -> None:
        with self._lock:
            try:
                action(self.store)
            except OSError as exc:
                raise ConnectorError(Reason.STORAGE, f"the RDF store failed: {exc}") from None
            finally:
                # a failed write may still have changed something (bulk loads are not atomic)
                with self._log_lock:
                    self.generation += 1
                    self._changes.append((self.generation, graph))

    def changed_since(self, generation: int) -> set[str] | None:
        """The graphs written after `generation`, or None when that is not known exactly."""
        with self._log_lock:
            if generation > self.generation:
                return None
            if generation == self.generation:
                return set()
            if not self._changes or self._changes[0][0] > generation + 1:
                return None  # older than the log remembers
            graphs: set[str] = set()
            for at, graph in self._changes:
                if at > generation:
                    if graph is None:
                        return None
                    graphs.add(graph)
            return graphs

    # ---- reads --------------------------------------------------------------------------

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return len(self.store)

    def checkpoint(self, target: Path) -> int:
        """Write a read-only copy (hard links: cheap) into `target`; returns the generation it holds."""
        with self._lock:
            self.store.flush()
            self.store.backup(str(target))
            return self.generation
