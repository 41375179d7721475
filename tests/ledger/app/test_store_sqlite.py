"""The SQLite backend: pruning is exact, reopening does not scan, a crash keeps the last commit."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app.store import VersionedStore, VersionNotFound, verify_proof
from ledger.app.store.backend import MemoryBackend
from ledger.app.store.sqlite import SqliteBackend
from ledger.app.store.tree import walk

batches = st.lists(
    st.dictionaries(st.binary(max_size=2), st.none() | st.binary(max_size=3), max_size=10),
    min_size=1,
    max_size=12,
)


def _node_count(store: VersionedStore) -> int:
    backend = store._backend
    if isinstance(backend, SqliteBackend):
        return backend.count("nodes")
    assert isinstance(backend, MemoryBackend)
    return backend.node_count()


def _reachable(store: VersionedStore, versions: list[int]) -> set[int]:
    out: set[int] = set()
    for v in versions:
        out.update(walk(store._node, store._backend.root(v)[1]))
    return out


@settings(max_examples=40, deadline=None)
@given(batches, st.integers(min_value=1, max_value=4))
def test_pruning_keeps_exactly_what_retained_versions_reach(history: list, retain: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stores = [
            VersionedStore.open(None, retain, 1),
            VersionedStore.open(Path(tmp) / "s", retain, 1),
        ]
        model: dict[bytes, bytes] = {}
        states: dict[int, dict[bytes, bytes]] = {}
        for v, writes in enumerate(history, start=1):
            for k, x in writes.items():
                model.pop(k, None) if x is None else model.__setitem__(k, x)
            states[v] = dict(model)
            roots = {s.commit(writes, v) for s in stores}
            assert len(roots) == 1
            kept = list(range(max(1, v - retain + 1), v + 1))
            for store in stores:
                assert _node_count(store) == len(_reachable(store, kept))
                for old in kept:
                    for k in set(states[old]) | set(writes):
                        value, proof = store.prove(k, old)
                        assert value == states[old].get(k) == store.get(k, old)
                        assert verify_proof(store.root_at(old), k, value, proof)
                    assert dict(store.items(b"", old)) == states[old]
                if v > retain:
                    with pytest.raises(VersionNotFound, match=rf"version {v - retain} has been"):
                        store.root_at(v - retain)
        for store in stores:
            store.close()


def test_pruning_drops_old_value_rows_and_stale_lists(tmp_path: Path) -> None:
    store = VersionedStore.open(tmp_path / "s.db", retain=3, prune_batch=1)
    for v in range(1, 21):
        store.commit({b"hot": b"%d" % v, b"cold-%d" % v: b"x", b"cold-%d" % (v - 1): None}, v)
    backend = store._backend
    assert isinstance(backend, SqliteBackend)
    # hot: 3 rows (versions 18-20); cold-19 and cold-20 live, cold-18 written at 18 and deleted
    # at 19 (2 rows), cold-17's tombstone (version 18); everything else pruned.
    assert backend.count("rows") == 3 + 2 + 2 + 1
    assert backend.count("roots") == 3
    with pytest.raises(VersionNotFound, match=r"version 12 has been pruned \(oldest kept: 18\)"):
        store.get(b"hot", 12)
    assert store.get(b"hot", 18) == b"18" and store.get(b"cold-18", 18) == b"x"
    assert store.get(b"cold-18") is None and list(store.items(b"cold")) == [(b"cold-20", b"x")]
    store.close()


def _opcodes_to_open(path: Path) -> int:
    backend = SqliteBackend(path)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    backend._db.set_progress_handler(count, 1)
    store = VersionedStore(backend)
    store.prove(b"k-3")
    store.get(b"k-3")
    store.close()
    return steps[0]


def test_reopening_reads_no_history(tmp_path: Path) -> None:
    costs = []
    for n in (20, 1500):
        store = VersionedStore.open(tmp_path / f"{n}.db")
        for v in range(1, n + 1):
            store.commit({b"k-%d" % (v % 7): b"%d" % v}, v)
        store.close()
        costs.append(_opcodes_to_open(tmp_path / f"{n}.db"))
    # A scan of 75x more versions would cost ~75x; index lookups cost a few more steps at most.
    assert costs[1] < costs[0] * 1.5, costs


def test_a_write_set_that_fails_halfway_changes_nothing(tmp_path: Path) -> None:
    class Failing(dict):  # type: ignore[type-arg]
        def items(self):  # type: ignore[no-untyped-def]
            for i, kv in enumerate(super().items()):
                if i == 3:
                    raise RuntimeError("writer died")
                yield kv

    for store in (VersionedStore.open(None), VersionedStore.open(tmp_path / "s.db")):
        root = store.commit({b"a": b"1"}, 1)
        with pytest.raises(RuntimeError):
            store.commit(Failing({b"k%d" % i: b"v" for i in range(10)}), 2)
        assert (store.version, store.root, store.get(b"k0")) == (1, root, None)
        assert store.commit({b"b": b"2"}, 2) == VersionedStore.open(None).commit(
            {b"a": b"1", b"b": b"2"}, 1
        )


_WRITER = """
import sys
from ledger.app.store import VersionedStore
store = VersionedStore.open(sys.argv[1], retain=5)
v = 0
while True:
    v += 1
    store.commit({b"key-%d" % (v * 31 + i) : b"value-%d" % v for i in range(300)}, v)
    print(v, flush=True)
"""


def test_a_process_killed_while_committing_leaves_the_last_commit_whole(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    while int(child.stdout.readline()) < 6:
        pass
    time.sleep(0.05)  # land somewhere inside a later commit
    child.send_signal(signal.SIGKILL)
    child.wait()
    store = VersionedStore.open(path, retain=5)
    last = store.version
    assert last is not None and last >= 6
    replay = VersionedStore.open(None)
    for v in range(1, last + 1):
        replay.commit({b"key-%d" % (v * 31 + i): b"value-%d" % v for i in range(300)}, v)
    assert store.root == replay.root
    for k in (b"key-%d" % (last * 31), b"key-%d" % (last * 31 + 299), b"absent"):
        value, proof = store.prove(k)
        assert value == replay.get(k) and verify_proof(store.root, k, value, proof)
    root = store.commit({b"after": b"crash"}, last + 1)
    assert root == replay.commit({b"after": b"crash"}, last + 1)


def test_a_store_built_in_bulk_skips_fsync_and_keeps_everything_once_closed(
        tmp_path: Path) -> None:
    bulk = VersionedStore.open(tmp_path / "bulk.db", durable=False)
    normal = VersionedStore.open(tmp_path / "normal.db")
    sync = [s._backend._db.execute("PRAGMA synchronous").fetchone()[0]  # type: ignore[attr-defined]
            for s in (bulk, normal)]
    assert sync == [0, 2]  # OFF, FULL
    for v in range(1, 30):
        bulk.commit({b"k-%d" % v: b"%d" % v}, v)
    root = bulk.root
    bulk.close()
    normal.close()
    again = VersionedStore.open(tmp_path / "bulk.db")
    assert (again.version, again.root, again.get(b"k-7")) == (29, root, b"7")
