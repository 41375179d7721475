"""The application's versioned Merkle store (`ledger.app.store`) against py-trie, measured together.

Batched commits of 1,000 writes (half updates, half new keys) into a store of 100,000 keys,
one version per commit: ms per commit and writes/s, for our store in memory and on SQLite
(retaining the last 5 versions, pruning in batches of 16 included) and for py-trie's HexaryTrie (Ethereum's
Patricia trie, over a dict; it keeps every node forever, it cannot prune by version). Then the
proof of one key at 100k keys: size in bytes and verification time. Then the time to reopen a
SQLite store after a short and a long history (target: not growing with history).
If `trie` is not installed, the baseline is a flat RFC 6962 root recomputed over all items.

    python bench/bench_ledger_store.py [--quick]

Targets: a commit of 1,000 writes into 100k keys <= 100 ms; proof verification <= 0.2 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger import merkle  # noqa: E402
from ledger.app.store import VersionedStore, verify_proof  # noqa: E402


def _key(i: int) -> bytes:
    return b"acct/" + hashlib.sha256(b"%d" % i).digest()[:20]


def _batches(n_keys: int, n_commits: int, size: int) -> list[dict[bytes, bytes]]:
    out = []
    for c in range(n_commits):
        w = {_key((c * 7919 + i * 13) % n_keys): b"upd-%d-%d" % (c, i) for i in range(size // 2)}
        w.update({_key(n_keys + c * size + i): b"new-%d" % i for i in range(size - len(w))})
        out.append(w)
    return out


def _per_commit(commit: object, batches: list[dict[bytes, bytes]], first: int) -> float:
    t = time.perf_counter()
    for v, w in enumerate(batches, start=first):
        commit(w, v)  # type: ignore[operator]
    return (time.perf_counter() - t) / len(batches) * 1000


def _timed(fn: object, reps: int) -> float:
    t = time.perf_counter()
    for _ in range(reps):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - t) / reps * 1000


def ours(path: Path | None, base: dict[bytes, bytes], batches: list) -> dict[str, float]:
    store = VersionedStore.open(path, retain=5, prune_batch=16)
    store.commit(base, 1)
    ms = _per_commit(store.commit, batches, 2)
    key = _key(3)
    value, proof = store.prove(key)
    assert verify_proof(store.root, key, value, proof)
    verify = _timed(lambda: verify_proof(store.root, key, value, proof), 2000)
    prove = _timed(lambda: store.prove(key), 200)
    store.close()
    return {"commit_ms": ms, "proof_bytes": len(proof), "verify_ms": verify, "prove_ms": prove}


def py_trie(base: dict[bytes, bytes], batches: list) -> dict[str, float] | None:
    try:
        import rlp  # type: ignore[import-untyped]
        from trie import HexaryTrie  # type: ignore[import-untyped]
    except ImportError:
        return None
    t = HexaryTrie({})
    with t.squash_changes() as s:
        for k, v in base.items():
            s[k] = v

    def commit(writes: dict[bytes, bytes], _v: int) -> None:
        with t.squash_changes() as s:
            for k, v in writes.items():
                s[k] = v
        t.root_hash  # noqa: B018

    ms = _per_commit(commit, batches, 2)
    key, root = _key(3), t.root_hash
    proof = t.get_proof(key)
    size = sum(len(rlp.encode(node)) for node in proof)
    value = t.get(key)
    assert HexaryTrie.get_from_proof(root, key, proof) == value
    verify = _timed(lambda: HexaryTrie.get_from_proof(root, key, proof), 500)
    return {"commit_ms": ms, "proof_bytes": size, "verify_ms": verify, "prove_ms": float("nan")}


def flat(base: dict[bytes, bytes], batches: list) -> dict[str, float]:
    state = dict(base)

    def commit(writes: dict[bytes, bytes], _v: int) -> None:
        state.update(writes)
        merkle.root([k + b"=" + state[k] for k in sorted(state)])

    nan = float("nan")
    ms = _per_commit(commit, batches[:3], 2)
    return {"commit_ms": ms, "proof_bytes": nan, "verify_ms": nan, "prove_ms": nan}


def reopen(tmp: Path, versions: int) -> float:
    path = tmp / f"history-{versions}.db"
    store = VersionedStore.open(path)
    for v in range(1, versions + 1):
        store.commit({_key(v % 50): b"%d" % v}, v)
    store.close()
    t = time.perf_counter()
    store = VersionedStore.open(path)
    store.prove(_key(1))
    ms = (time.perf_counter() - t) * 1000
    store.close()
    return ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer keys, commits and versions")
    args = ap.parse_args()
    n_keys, n_commits = (20_000, 5) if args.quick else (100_000, 20)
    short, long = (50, 500) if args.quick else (200, 5000)
    base = {_key(i): b"init-%d" % i for i in range(n_keys)}
    batches = _batches(n_keys, n_commits, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        rows = {"ours, memory": ours(None, base, batches)}
        rows["ours, sqlite"] = ours(Path(tmp) / "s.db", base, batches)
        baseline = py_trie(base, batches)
        name = "py-trie 4.0 (dict)" if baseline else "flat merkle.root"
        rows[name] = baseline or flat(base, batches)
        times = [reopen(Path(tmp), short), reopen(Path(tmp), long)]
    print(f"{n_keys} keys, {n_commits} commits of 1000 writes each")
    print(f"{'store':<20} {'ms/commit':>10} {'writes/s':>10} {'proof B':>8} {'verify ms':>10}")
    for label, r in rows.items():
        print(
            f"{label:<20} {r['commit_ms']:>10.1f} {1000 / r['commit_ms'] * 1000:>10.0f}"
            f" {r['proof_bytes']:>8.0f} {r['verify_ms']:>10.3f}"
        )
    base_row = rows[name]
    for label in ("ours, memory", "ours, sqlite"):
        r = rows[label]
        print(
            f"{label}: commit {base_row['commit_ms'] / r['commit_ms']:.1f}x faster than {name},"
            f" verify {base_row['verify_ms'] / r['verify_ms']:.1f}x, prove {r['prove_ms']:.3f} ms"
        )
    print(
        f"reopen + one proof: {times[0]:.2f} ms after {short} versions,"
        f" {times[1]:.2f} ms after {long} versions"
    )


if __name__ == "__main__":
    main()
