"""In-memory replicas in the query workers: built in the background, patched after writes,
rebuilt after bulk loads, and never a reason to answer with stale data or to drop a limit."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from connector.sparql import Limits, Share, SparqlSettings, open_sparql
from connector.sparql import store as store_module
from connector.sparql.formats import parse_accept
from connector.sparql.store import RdfStore

JSON = parse_accept("application/sparql-results+json")
TIMEOUT = 2.0
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"


def count(answer) -> int:
    assert answer.status == 200, answer.message
    return int(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"])


async def replicated(engine, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while engine.replicated < engine.limits.workers:
        assert time.monotonic() < deadline, [p.replica for p in engine._all]
        await asyncio.sleep(0.1)


@pytest.fixture
async def sparql(tmp_path):
    limits = Limits(member=Share(2, 8, TIMEOUT), workers=2, max_result_bytes=200_000)
    async with open_sparql(tmp_path / "sparql", SparqlSettings(limits=limits)) as service:
        for i in range(20):
            await service.store.replace_graph(f"urn:g:{i}", f"<urn:s{i}> <urn:p> {i} .")
        await replicated(service.engine)
        yield service


async def test_writes_are_visible_at_once_and_patched_into_the_replicas(sparql):
    store, engine = sparql.store, sparql.engine
    assert count(await engine.execute(COUNT, JSON)) == 20
    await store.replace_graph("urn:g:1", "<urn:s1> <urn:p> 100 . <urn:s1> <urn:p> 101 .")
    await store.remove_graph("urn:g:2")
    await store.replace_graph("urn:g:new", "<urn:new> <urn:p> 7 .")
    # every worker answers the new state, whichever it is: patched, not rebuilt
    answers = await asyncio.gather(*(engine.execute(COUNT, JSON) for _ in range(6)))
    assert [count(a) for a in answers] == [21] * 6
    assert engine.replicated == engine.limits.workers
    ask = await engine.execute("ASK { <urn:s2> ?p ?o }", JSON)
    assert json.loads(ask.body)["boolean"] is False


async def test_a_bulk_load_is_visible_at_once_and_the_replicas_are_rebuilt(sparql):
    store, engine = sparql.store, sparql.engine
    nquads = "".join(f'<urn:b{i}> <urn:p> "{i}" <urn:bulk> .\n' for i in range(100))
    await store.bulk_load(nquads, "application/n-quads")
    assert count(await engine.execute(COUNT, JSON)) == 120  # from the checkpoint meanwhile
    await replicated(engine)
    answers = await asyncio.gather(*(engine.execute(COUNT, JSON) for _ in range(4)))
    assert [count(a) for a in answers] == [120] * 4
    assert len(engine._all) == engine.limits.workers  # the replaced workers are gone


async def test_limits_hold_on_replicas(sparql):
    engine = sparql.engine
    body = "".join(f'<urn:x{i}> <urn:q> "value {i} aaaaaaaaaaaaaaaaaa" .\n' for i in range(3000))
    await sparql.store.replace_graph("urn:big", body, "nt")
    hostile = asyncio.create_task(
        engine.execute("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", JSON)
    )
    await asyncio.sleep(0.2)
    assert count(await engine.execute(COUNT, JSON)) == 3020  # the other worker, patched
    answer = await hostile
    assert answer.status == 503 and "stopped" in answer.message
    capped = await engine.execute("SELECT * { ?s ?p ?o }", JSON)
    assert capped.status == 422
    # the killed worker is replaced at once, and later by one with a replica
    assert count(await engine.execute(COUNT, JSON)) == 3020
    await replicated(engine)


async def test_no_replicas_when_disabled(tmp_path):
    limits = Limits(workers=1, replica_max_bytes=0)
    async with open_sparql(tmp_path / "s", SparqlSettings(limits=limits)) as service:
        await service.store.replace_graph("urn:g", "<urn:a> <urn:p> 1 .")
        assert count(await service.engine.execute(COUNT, JSON)) == 1
        await asyncio.sleep(1.5)
        assert service.engine.replicated == 0


async def test_the_change_log(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "CHANGE_LOG", 8)
    store = RdfStore.open(tmp_path / "store")
    try:
        assert store.changed_since(0) == set()
        await store.replace_graph("urn:a", "<urn:a> <urn:p> 1 .")
        await store.remove_graph("urn:b")
        assert store.changed_since(0) == {"urn:a", "urn:b"}
        assert store.changed_since(1) == {"urn:b"}
        await store.bulk_load('<urn:c> <urn:p> "1" <urn:c> .\n', "application/n-quads")
        assert store.changed_since(1) is None  # a bulk load does not say what it changed
        assert store.changed_since(3) == set()
        assert store.changed_since(4) is None  # a generation this store never had
        for _ in range(8 + 1):
            await store.remove_graph("urn:d")
        assert store.changed_since(3) is None  # older than the log remembers
        assert store.changed_since(store.generation - 1) == {"urn:d"}
    finally:
        store.close()


def test_a_worker_serves_its_replica_only_for_the_checkpoint_it_holds(tmp_path):
    import pyoxigraph as ox

    from connector.sparql.replica import Replica
    from connector.sparql.worker import Worker

    live = ox.Store(str(tmp_path / "live"))
    live.update(
        "INSERT DATA { GRAPH <urn:g1> { <urn:a> <urn:p> 1 } GRAPH <urn:g2> { <urn:b> <urn:p> 2 } }"
    )
    live.backup(str(tmp_path / "c1"))
    worker = Worker(Replica.build(str(tmp_path / "c1"), 1))
    request = {"snapshot": str(tmp_path / "c1"), "generation": 1}
    assert worker.source(request) is worker.replica.store
    live.update("DROP GRAPH <urn:g1> ; INSERT DATA { GRAPH <urn:g3> { <urn:c> <urn:p> 3 } }")
    live.backup(str(tmp_path / "c2"))
    # an older query keeps its checkpoint; the copy stays for newer ones
    assert worker.source({**request, "generation": 0}) is not worker.replica.store
    patched = worker.source(
        {"snapshot": str(tmp_path / "c2"), "generation": 2, "delta": ["urn:g1", "urn:g3"]}
    )
    assert patched is worker.replica.store and worker.replica.generation == 2
    assert {str(q.graph_name) for q in patched} == {"<urn:g2>", "<urn:g3>"}
    # without a delta the copy cannot be trusted: dropped, the checkpoint answers
    live.update("INSERT DATA { GRAPH <urn:g4> { <urn:d> <urn:p> 4 } }")
    live.backup(str(tmp_path / "c3"))
    plain = worker.source({"snapshot": str(tmp_path / "c3"), "generation": 3, "delta": None})
    assert worker.replica is None and len(plain) == 3
