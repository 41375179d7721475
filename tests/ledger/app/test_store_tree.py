"""The versioned sparse Merkle tree against an independent definition of its root, and its proofs."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app.store import EMPTY_ROOT, PROOF_TYPE, VersionedStore, verify_proof
from ledger.errors import LedgerError, Reason


def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def reference_root(data: dict[bytes, bytes]) -> bytes:
    """The root by definition: empty, a lone leaf, or the inner hash of the two halves."""
    items = sorted((_h(k), _h(v)) for k, v in data.items())

    def sub(xs: list[tuple[bytes, bytes]], d: int) -> bytes:
        if not xs:
            return EMPTY_ROOT
        if len(xs) == 1:
            return _h(b"\x00" + xs[0][0] + xs[0][1])
        bit = lambda kh: (kh[d // 8] >> (7 - d % 8)) & 1  # noqa: E731
        left = [x for x in xs if not bit(x[0])]
        right = [x for x in xs if bit(x[0])]
        return _h(b"\x01" + sub(left, d + 1) + sub(right, d + 1))

    return sub(items, 0)


keys = st.binary(min_size=0, max_size=3)
batches = st.lists(
    st.dictionaries(keys, st.none() | st.binary(max_size=4), max_size=12), min_size=1, max_size=6
)


def _replay(store: VersionedStore, history: list[dict[bytes, bytes | None]]) -> list[dict]:
    """Commit each batch as versions 1, 2, ...; return the model state after each."""
    model: dict[bytes, bytes] = {}
    states = []
    for v, writes in enumerate(history, start=1):
        for k, x in writes.items():
            if x is None:
                model.pop(k, None)
            else:
                model[k] = x
        assert store.commit(writes, v) == reference_root(model)
        states.append(dict(model))
    return states


@settings(max_examples=60, deadline=None)
@given(batches)
def test_roots_proofs_and_history_match_the_definition_in_both_backends(history: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        mem = VersionedStore.open(None)
        disk = VersionedStore.open(Path(tmp) / "s.db")
        states = _replay(mem, history)
        assert _replay(disk, history) == states
        disk.close()
        disk = VersionedStore.open(Path(tmp) / "s.db")
        probe = {k for w in history for k in w} | {b"never-written"}
        for store in (mem, disk):
            assert store.version == len(history) and store.root == reference_root(states[-1])
            for v, state in enumerate(states, start=1):
                root = store.root_at(v)
                assert root == reference_root(state)
                assert list(store.items(b"", v)) == sorted(state.items())
                for k in probe:
                    value, proof = store.prove(k, v)
                    assert value == state.get(k) == store.get(k, v)
                    assert verify_proof(root, k, value, proof)
                    assert not verify_proof(root, k, (value or b"") + b"x", proof)
                    assert not verify_proof(_h(root), k, value, proof)
                    if value is not None:  # (an absence proof may cover other absent keys)
                        assert not verify_proof(root, k + b"?", value, proof)
                        assert not verify_proof(root, k, None, proof)
        disk.close()


def test_deletes_return_to_the_same_root() -> None:
    store = VersionedStore.open(None)
    assert store.version is None and store.root == EMPTY_ROOT
    base = {bytes([i]): b"v%d" % i for i in range(50)}
    r1 = store.commit(base, 1)
    store.commit({b"extra": b"1", b"\x07": None}, 2)
    assert store.get(b"\x07") is None and store.get(b"\x07", 1) == b"v7"
    assert store.commit({b"extra": None, b"\x07": b"v7"}, 3) == r1
    assert store.commit({k: None for k in base}, 4) == EMPTY_ROOT
    assert list(store.items(b"")) == [] and list(store.items(b"", 3)) == sorted(base.items())


def test_prefix_iteration_is_in_key_order_and_bounded() -> None:
    store = VersionedStore.open(None)
    store.commit({b"a\xff": b"1", b"a\xff\x00": b"2", b"b": b"3", b"a": b"0", b"\xff": b"4"}, 1)
    assert [k for k, _ in store.items(b"a")] == [b"a", b"a\xff", b"a\xff\x00"]
    assert [k for k, _ in store.items(b"a\xff")] == [b"a\xff", b"a\xff\x00"]
    assert [k for k, _ in store.items(b"\xff")] == [b"\xff"]


def test_garbage_proofs_are_rejected_without_raising() -> None:
    store = VersionedStore.open(None)
    root = store.commit({b"k%d" % i: b"v%d" % i for i in range(200)}, 1)
    value, proof = store.prove(b"k7")
    absent_value, absent = store.prove(b"nope")
    assert value == b"v7" and absent_value is None and PROOF_TYPE == "communs:smt:v1"
    assert verify_proof(root, b"k7", value, proof) and verify_proof(root, b"nope", None, absent)
    for bad in (b"", proof[:-1], proof[:5], proof + b"\x00", b"\xff" * 40, bytes(3)):
        assert not verify_proof(root, b"k7", value, bad)
    for i in range(len(proof)):
        flipped = proof[:i] + bytes([proof[i] ^ 1]) + proof[i + 1 :]
        assert not verify_proof(root, b"k7", value, flipped)
    assert not verify_proof(root, b"k8", None, absent)  # k8 exists
    assert not verify_proof(root, b"k7", None, proof)  # a membership proof proves no absence
    assert not verify_proof(b"short", b"k7", value, proof)


def test_bad_versions_are_clear_errors() -> None:
    store = VersionedStore.open(None)
    store.commit({b"a": b"1"}, 5)
    with pytest.raises(LedgerError, match=r"version 5 must be greater than the last one \(5\)"):
        store.commit({b"a": b"2"}, 5)
    with pytest.raises(KeyError) as info:
        store.get(b"a", 3)
    assert isinstance(info.value, LedgerError) and info.value.reason == Reason.NOT_FOUND
    assert str(info.value) == "version 3 was never committed (latest: 5)"
    with pytest.raises(LedgerError, match="must be bytes"):
        store.commit({"a": b"1"}, 6)  # type: ignore[dict-item]
    assert store.version == 5 and store.get(b"a") == b"1"
