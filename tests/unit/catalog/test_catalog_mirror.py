"""The catalog's mirror in a real RDF store across node starts and stops: checked against the
database at start, rebuilt when they differ, its record kept out of the store."""

from __future__ import annotations

from pathlib import Path

from connector.catalog.mirror import LEGACY_RECORD_GRAPH, SparqlSink
from connector.catalog.service import CatalogService
from connector.catalog.sql import SqlCatalogStore
from connector.sparql.store import RdfStore

TITLES = "SELECT ?t WHERE { GRAPH ?g { ?g <http://purl.org/dc/terms/title> ?t } }"


def catalog(database, home: Path) -> CatalogService:
    return CatalogService(SqlCatalogStore(database), home=home, did="did:web:p.example", public_url="https://p.example")


class Node:
    """What serving does to the mirror: open the store, resync; then mark_synced, close."""

    def __init__(self, database, folder: Path) -> None:
        self.service = catalog(database, folder)
        self.folder = folder
        self.store: RdfStore | None = None

    async def start(self) -> int:
        self.store = RdfStore.open(self.folder / "sparql" / "store")
        self.service.sink = SparqlSink(self.store)
        return await self.service.resync()

    async def stop(self) -> None:
        await self.service.mark_synced()
        self.service.sink = None
        self.store.close()

    def titles(self) -> list[str]:
        return sorted(str(r["t"].value) for r in self.store.store.query(TITLES))

    def graphs(self) -> set[str]:
        return set(self.store.graphs())


async def test_a_start_checks_the_mirror_and_rebuilds_it_when_it_missed_changes(database, tmp_path):
    node = Node(database, tmp_path)
    assert await node.start() == 0
    seen = await node.service.publish("https://data.example/a.csv", title="Seen")
    hidden = await node.service.publish("https://data.example/m.csv", title="Members", policy="members")
    # another process writes the database while the node serves (what the CLI used to do)
    behind = catalog(database, tmp_path)
    await behind.publish("https://data.example/b.csv", title="Missed")
    await behind.update(seen.id, title="Renamed behind")
    assert node.titles() == ["Seen"]
    await node.stop()
    assert await node.start() == 2  # what the mirror holds differs from the database: rebuilt
    assert node.titles() == ["Missed", "Renamed behind"]
    assert hidden.iri not in node.graphs()
    await node.stop()
    assert await node.start() == 0  # nothing changed since: the mirror is left alone
    await node.service.withdraw(seen.id)
    assert node.titles() == ["Missed"]
    await node.stop()


async def test_changes_made_while_the_node_is_down_are_caught_up(database, tmp_path):
    node = Node(database, tmp_path)
    await node.start()
    kept = await node.service.publish("https://data.example/a.csv", title="Kept")
    gone = await node.service.publish("https://data.example/b.csv", title="Gone")
    await node.stop()
    offline = catalog(database, tmp_path)  # the CLI, the node not serving
    await offline.withdraw(gone.id)
    await offline.update(kept.id, policy="members")
    await offline.publish("https://data.example/c.csv", title="New")
    assert await node.start() == 1
    assert node.titles() == ["New"]
    await node.stop()


async def test_the_record_is_never_in_the_store_and_a_crash_forces_a_rebuild(database, tmp_path):
    node = Node(database, tmp_path)
    await node.start()
    await node.service.publish("https://data.example/a.csv", title="A")
    await node.stop()
    await node.start()
    # an older version's record, a graph every query could see, is dropped by the rebuild
    await node.store.replace_graph(LEGACY_RECORD_GRAPH, f'<{LEGACY_RECORD_GRAPH}> <{LEGACY_RECORD_GRAPH}#state> "x" .',
                                   format="application/n-triples")
    node.store.close()  # a crash: no record written
    assert await node.start() == 1
    assert not any("catalog-mirror" in str(quad) for quad in node.store.store.quads_for_pattern(None, None, None))
    assert node.titles() == ["A"]
    await node.stop()
