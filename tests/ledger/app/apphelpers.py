"""Shared pieces of the ledger application's tests: keys, a genesis, a block runner."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence

from ledger.abci import (
    BLOCK_ID_FLAG_COMMIT,
    CommitInfo,
    RequestFinalizeBlock,
    RequestInitChain,
    ResponseFinalizeBlock,
    VoteInfo,
)
from ledger.app import address
from ledger.app.app import LedgerApp
from ledger.crypto import PrivateKey
from ledger.encoding import encode

CHAIN = "communs-test"
ALICE, BOB, CAROL = (PrivateKey.from_secret(n) for n in (b"alice", b"bob", b"carol"))
VAL1, VAL2 = PrivateKey.from_secret(b"val1"), PrivateKey.from_secret(b"val2")


def text(key: PrivateKey) -> str:
    return address.to_text(key.address)


class MemStore:
    """A small versioned store (whole snapshots per version) standing in until the Merkle
    store is wired in: same interface, a hash of the sorted items as root, no proofs."""

    def __init__(self) -> None:
        self.snapshots: dict[int, dict[bytes, bytes]] = {}
        self.version: int | None = None

    @property
    def root(self) -> bytes:
        return b"" if self.version is None else self.root_at(self.version)

    def root_at(self, version: int) -> bytes:
        return hashlib.sha256(encode(sorted(self.snapshots[version].items()))).digest()

    def get(self, key: bytes, version: int | None = None) -> bytes | None:
        v = self.version if version is None else version
        return None if v is None else self.snapshots[v].get(key)

    def items(self, prefix: bytes, version: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        v = self.version if version is None else version
        snap = {} if v is None else self.snapshots[v]
        return iter(sorted((k, x) for k, x in snap.items() if k.startswith(prefix)))

    def prove(self, key: bytes, version: int | None = None) -> tuple[bytes | None, bytes]:
        return self.get(key, version), b""

    def commit(self, writes: Mapping[bytes, bytes | None], version: int) -> bytes:
        assert self.version is None or version > self.version
        snap = dict(self.snapshots.get(self.version, {}) if self.version is not None else {})
        for k, x in writes.items():
            if x is None:
                snap.pop(k, None)
            else:
                snap[k] = x
        self.snapshots[version] = snap
        self.version = version
        return self.root_at(version)


def genesis_state(**extra: object) -> dict[str, object]:
    state: dict[str, object] = {"balances": {text(ALICE): 1_000_000, text(BOB): 50_000}}
    state.update(extra)
    return state


def new_app(app_state: object = None, store: MemStore | None = None) -> LedgerApp:
    app = LedgerApp(store or MemStore(), proof_type="")
    app.init_chain(RequestInitChain(0, CHAIN, (), genesis_state() if app_state is None
                                    else app_state, 1))
    return app


def signed_by(*keys: PrivateKey, power: int = 10) -> CommitInfo:
    return CommitInfo(0, tuple(VoteInfo(k.address, power, BLOCK_ID_FLAG_COMMIT) for k in keys))


def run_block(app: LedgerApp, txs: Sequence[bytes], last_commit: CommitInfo = CommitInfo(),  # noqa: B008 (frozen)
              height: int | None = None) -> ResponseFinalizeBlock:
    h = (app.info().last_block_height + 1) if height is None else height
    res = app.finalize_block(RequestFinalizeBlock(tuple(txs), b"\x00" * 32, h, h, b"",
                                                  decided_last_commit=last_commit))
    app.commit()
    return res
