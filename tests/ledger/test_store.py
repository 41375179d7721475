"""Block store and state store on real sqlite files."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from ledger.store import BlockStore, StateStore, StoreError


def _block(h: int) -> tuple[bytes, bytes, bytes]:
    body = f"block-{h}".encode() * 10
    return hashlib.sha256(body).digest(), body, f"commit-{h}".encode()


def test_save_and_load_blocks_survive_reopen(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks.db")
    assert store.height == 0 and store.load(1) is None
    for h in range(1, 6):
        store.save_block(h, *_block(h))
    store.close()
    store = BlockStore(tmp_path / "blocks.db")
    assert (store.base, store.height) == (1, 5)
    hsh, body, commit = _block(3)
    got = store.load(3)
    assert got is not None and (got.height, got.hash, got.block, got.commit) == (
        3,
        hsh,
        body,
        commit,
    )
    assert store.load_by_hash(hsh) == got
    assert store.load_block(5) == _block(5)[1] and store.load_commit(5) == b"commit-5"
    assert store.load_hash(9) is None and store.load_by_hash(b"\x00" * 32) is None
    store.save_commit(5, b"canonical-commit-5")
    assert store.load_commit(5) == b"canonical-commit-5"
    with sqlite3.connect(tmp_path / "blocks.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_invariants_gap_conflict_idempotent(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "b.db")
    store.save_block(10, *_block(10))  # any first height (initial_height)
    store.save_block(10, *_block(10))  # replay after a crash: no-op
    with pytest.raises(StoreError, match="different block"):
        store.save_block(10, *_block(99))
    with pytest.raises(StoreError, match="gap"):
        store.save_block(12, *_block(12))
    with pytest.raises(StoreError):
        store.save_block(0, *_block(0))
    with pytest.raises(StoreError, match="already stored"):
        store.save_block(11, _block(10)[0], b"other", b"c")  # same hash twice
    with pytest.raises(StoreError):
        store.save_commit(42, b"c")
    assert store.height == 10


def test_state_store_atomic_batches(tmp_path: Path) -> None:
    st = StateStore(tmp_path / "state.db")
    st.put("app/state", b"\x01\x02")
    st.put_many([("consensus/last", b"h=3"), ("app/state", b"\x03")], delete=["nothing"])
    st.close()
    st = StateStore(tmp_path / "state.db")
    assert st.get("app/state") == b"\x03" and st.get("missing") is None
    assert st.keys("app/") == ["app/state"] and st.keys() == ["app/state", "consensus/last"]
    st.delete("app/state")
    assert st.get("app/state") is None
    with pytest.raises(TypeError):
        st.put_many([("ok", b"1"), ("bad", None)])  # type: ignore[list-item]
    assert st.get("ok") is None  # the whole batch rolled back


def test_committed_evidence_is_found_by_height_after_reopen(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks.db")
    for h in range(1, 6):
        store.save_block(h, *_block(h), evidence=[bytes([h]) * 32] if h % 2 else [])
    store.save_block(5, *_block(5), evidence=[b"x" * 32])  # an idempotent replay adds nothing
    store.close()
    store = BlockStore(tmp_path / "blocks.db")
    assert sorted(store.evidence_since(2)) == [b"\x03" * 32, b"\x05" * 32]
    assert len(store.evidence_since(1)) == 3
