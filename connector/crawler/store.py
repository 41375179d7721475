"""Where crawled graphs go: the node's embedded pyoxigraph store (`<dir>/crawler/store`, the
same RdfStore as /sparql's, so its query engine serves it), or an external SPARQL 1.1 store,
written per named graph through the Graph Store Protocol (PUT replaces a graph whole, DELETE
removes it) and SPARQL Update (the provenance graph, replaced in one request)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

import aiohttp
import pyoxigraph as ox

from connector.errors import ConnectorError, Reason
from connector.sparql.store import RdfStore

NTRIPLES = "application/n-triples"


class CrawlStore(Protocol):
    async def replace(self, graph: str, triples: Sequence[ox.Triple]) -> None: ...
    async def remove(self, graph: str) -> None: ...


class EmbeddedStore:
    """The node's RdfStore. A graph that changed is patched: only the triples that differ are
    removed and added (blank nodes carry stable labels, blanks.py), so a catalog of 10,000
    datasets with a few changed costs a few writes, not a rewrite; the store's write lock keeps
    checkpoints (what queries read) from seeing a graph half patched."""

    def __init__(self, store: RdfStore) -> None:
        self.store = store
        # what this process last wrote to each graph: the next patch compares with it instead
        # of reading the graph back (the triples are mostly the crawler's own, kept anyway)
        self.written: dict[str, set[ox.Triple]] = {}

    async def replace(self, graph: str, triples: Sequence[ox.Triple]) -> None:
        node = ox.NamedNode(graph)
        known = self.written.pop(graph, None)  # unknown again should this write fail

        def patch(store: ox.Store) -> None:
            # compared as triples, and only what differs made into quads: building a quad
            # for every triple of a big graph costs more than the comparison itself
            new = set(triples)
            old = known if known is not None else {
                q.triple for q in store.quads_for_pattern(None, None, None, node)}
            gone = old - new
            if len(gone) > len(old) // 2:  # mostly new: dropping the graph is cheaper
                store.remove_graph(node)
                _load(store, new, node)
            else:
                for t in gone:
                    store.remove(ox.Quad(t.subject, t.predicate, t.object, node))
                _load(store, new - old, node)
            self.written[graph] = new  # only once written whole

        try:
            await asyncio.to_thread(self.store._write, patch, graph)
        except BaseException:
            self.written.pop(graph, None)
            raise

    async def patch(self, graph: str, gone: Sequence[ox.Triple], new: Sequence[ox.Triple]) -> None:
        """Remove GONE from GRAPH and add NEW: a few datasets changed in a big catalog."""
        node = ox.NamedNode(graph)
        known = self.written.pop(graph, None)  # unknown again should this write fail

        def apply(store: ox.Store) -> None:
            for t in gone:
                store.remove(ox.Quad(t.subject, t.predicate, t.object, node))
            _load(store, set(new), node)

        await asyncio.to_thread(self.store._write, apply, graph)
        if known is not None:
            self.written[graph] = (known - set(gone)) | set(new)

    async def remove(self, graph: str) -> None:
        self.written.pop(graph, None)
        await self.store.remove_graph(graph)


def _load(store: ox.Store, triples: set[ox.Triple], node: ox.NamedNode) -> None:
    """TRIPLES into graph NODE, read back as N-Quads (about twice as fast as quads built one
    by one in Python; the parser keeps blank node labels, which Store.load would not)."""
    if not triples:
        return
    tail = f" {node} .".encode()
    lines = ntriples(list(triples)).splitlines()
    store.bulk_extend(ox.parse(b"\n".join(line.removesuffix(b" .") + tail for line in lines if line),
                               ox.RdfFormat.N_QUADS))


def ntriples(triples: Sequence[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) if triples else b""


class RemoteStore:
    """An external store: GRAPH_STORE_URL is its Graph Store Protocol endpoint (indirect graph
    identification, ?graph=IRI), UPDATE_URL its SPARQL Update endpoint."""

    def __init__(self, session: aiohttp.ClientSession, graph_store_url: str, update_url: str,
                 timeout: float = 60.0) -> None:
        self.session = session
        self.graph_store_url = graph_store_url
        self.update_url = update_url
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def _call(self, method: str, url: str, what: str, ok: tuple[int, ...], **kw: object) -> None:
        try:
            async with self.session.request(method, url, timeout=self.timeout,
                                            allow_redirects=False, **kw) as response:  # type: ignore[arg-type]
                if response.status not in ok:
                    said = (await response.content.read(300)).decode("utf-8", "replace").strip()
                    raise ConnectorError(Reason.STORAGE, f"the external store refused {what}: "
                                         f"HTTP {response.status} {said[:200]}")
        except aiohttp.ClientError as exc:
            raise ConnectorError(Reason.STORAGE, f"cannot reach the external store at {url}: "
                                 f"{type(exc).__name__}") from None

    async def replace(self, graph: str, triples: Sequence[ox.Triple]) -> None:
        await self._call("PUT", self.graph_store_url, f"PUT {graph}", (200, 201, 204),
                         params={"graph": graph}, data=ntriples(triples),
                         headers={"Content-Type": NTRIPLES})

    async def remove(self, graph: str) -> None:
        await self._call("DELETE", self.graph_store_url, f"DELETE {graph}", (200, 204, 404),
                         params={"graph": graph})

    async def update(self, text: str) -> None:
        await self._call("POST", self.update_url, "the SPARQL update", (200, 204),
                         data=text.encode(), headers={"Content-Type": "application/sparql-update"})


async def replace_by_update(store: CrawlStore, graph: str, triples: Sequence[ox.Triple]) -> None:
    """Replace GRAPH in one transaction: SPARQL Update on an external store (DROP then INSERT
    DATA in one request), the embedded store's own atomic replace otherwise."""
    if isinstance(store, RemoteStore):
        node = ox.NamedNode(graph)
        body = ntriples(triples).decode()
        await store.update(f"DROP SILENT GRAPH {node} ;\nINSERT DATA {{ GRAPH {node} {{\n{body}}} }}")
    else:
        await store.replace(graph, triples)
