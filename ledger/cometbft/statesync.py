"""State sync of the ledger application's store: every `interval` heights, after Commit, the
whole key-value state of that height is written as a snapshot in chunks under
NODE/data/snapshots/HEIGHT/ (the last `keep` kept); a new node restores one chunk by chunk and
accepts it only if the rebuilt tree's root is the app hash CometBFT's light client trusts.

Format 1: a chunk is the canonical encoding of a list of [key, value] pairs in key order; the
snapshot's metadata is the list of its chunks' SHA-256 hashes, its hash the SHA-256 of that
list's encoding. The sparse Merkle tree's root depends only on its contents, so the rebuilt
store has exactly the app hash of the snapshot's height."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ..app.app import LedgerApp
from ..app.store import VersionedStore
from ..encoding import decode, encode
from ..errors import DecodeError
from .pb.tendermint.abci import types_pb2 as pb

FORMAT = 1
CHUNK_BYTES = 4 * 1024 * 1024
Offer = pb.ResponseOfferSnapshot
Apply = pb.ResponseApplySnapshotChunk


class StoreSnapshots:
    def __init__(self, app: LedgerApp, folder: Path, interval: int, keep: int = 2,
                 chunk_bytes: int = CHUNK_BYTES) -> None:
        self.app, self.folder = app, folder
        self.interval, self.keep, self.chunk_bytes = interval, max(1, keep), chunk_bytes
        self._restoring: tuple[pb.Snapshot, bytes, list[bytes]] | None = None
        self._chunks: list[bytes] = []

    # ------------------------------------------------------------------ taking

    def after_commit(self, height: int) -> None:
        if self.interval > 0 and height > 0 and height % self.interval == 0:
            self.take(height)

    def take(self, height: int) -> pb.Snapshot:
        chunks, current, size = [], [], 0
        for key, value in self.app.store.items(b"", height):
            current.append([key, value])
            size += len(key) + len(value) + 8
            if size >= self.chunk_bytes:
                chunks.append(encode(current))
                current, size = [], 0
        if current or not chunks:
            chunks.append(encode(current))
        hashes = [hashlib.sha256(c).digest() for c in chunks]
        snap = pb.Snapshot(height=height, format=FORMAT, chunks=len(chunks),
                           hash=hashlib.sha256(encode(hashes)).digest(), metadata=encode(hashes))
        tmp = self.folder / f".{height}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for i, c in enumerate(chunks):
            (tmp / str(i)).write_bytes(c)
        (tmp / "snapshot.json").write_text(json.dumps({
            "height": height, "format": FORMAT, "chunks": len(chunks), "hash": snap.hash.hex(),
            "metadata": snap.metadata.hex()}))
        shutil.rmtree(self.folder / str(height), ignore_errors=True)
        tmp.rename(self.folder / str(height))  # a snapshot appears whole or not at all
        for old in self._heights()[:-self.keep]:
            shutil.rmtree(self.folder / str(old), ignore_errors=True)
        return snap

    def _heights(self) -> list[int]:
        if not self.folder.exists():
            return []
        return sorted(int(p.name) for p in self.folder.iterdir() if p.name.isdigit())

    # ----------------------------------------------------------------- serving

    def list(self) -> list[pb.Snapshot]:
        out = []
        for h in self._heights():
            try:
                d = json.loads((self.folder / str(h) / "snapshot.json").read_text())
                out.append(pb.Snapshot(height=d["height"], format=d["format"],
                                       chunks=d["chunks"], hash=bytes.fromhex(d["hash"]),
                                       metadata=bytes.fromhex(d["metadata"])))
            except (OSError, ValueError, KeyError):
                continue  # a damaged snapshot is not offered
        return out

    def load_chunk(self, height: int, format: int, index: int) -> bytes:
        if format != FORMAT:
            return b""
        try:
            return (self.folder / str(height) / str(index)).read_bytes()
        except OSError:
            return b""  # CometBFT asks another peer

    # --------------------------------------------------------------- restoring

    def offer(self, snapshot: pb.Snapshot, app_hash: bytes) -> pb.ResponseOfferSnapshot.Result:
        if self.app.store.version is not None:
            return Offer.ABORT  # state sync is for an empty node only
        if snapshot.format != FORMAT:
            return Offer.REJECT_FORMAT
        try:
            hashes = decode(snapshot.metadata)
        except DecodeError:
            return Offer.REJECT
        if not (isinstance(hashes, list) and len(hashes) == snapshot.chunks > 0
                and all(isinstance(h, bytes) and len(h) == 32 for h in hashes)
                and hashlib.sha256(encode(hashes)).digest() == snapshot.hash):
            return Offer.REJECT
        self._restoring, self._chunks = (snapshot, app_hash, hashes), []
        return Offer.ACCEPT

    def apply_chunk(self, index: int, chunk: bytes) -> pb.ResponseApplySnapshotChunk.Result:
        if self._restoring is None:
            return Apply.ABORT
        snapshot, app_hash, hashes = self._restoring
        if index != len(self._chunks) or hashlib.sha256(chunk).digest() != hashes[index]:
            return Apply.REJECT_SNAPSHOT
        self._chunks.append(chunk)
        if len(self._chunks) < len(hashes):
            return Apply.ACCEPT
        self._restoring = None
        writes: dict[bytes, bytes | None] = {}
        try:
            for c in self._chunks:
                for key, value in decode(c):
                    if not (isinstance(key, bytes) and isinstance(value, bytes)):
                        return Apply.REJECT_SNAPSHOT
                    writes[key] = value
        except (DecodeError, ValueError, TypeError):  # not a list of pairs
            return Apply.REJECT_SNAPSHOT
        finally:
            self._chunks = []
        # rebuilt in memory first: only a snapshot with the trusted root reaches the disk
        if VersionedStore.open(None).commit(writes, snapshot.height) != app_hash:
            return Apply.REJECT_SNAPSHOT
        self.app.store.commit(writes, snapshot.height)
        self.app.restored()
        return Apply.ACCEPT
