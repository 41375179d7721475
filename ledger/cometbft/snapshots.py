"""What the ABCI server asks of a state-sync provider (CometBFT's four snapshot calls), kept
apart from `Application` because our own engine has no state sync: a snapshot is taken after
Commit, listed and served in chunks to a peer, and restored from chunks on a new node."""

from __future__ import annotations

from typing import Protocol

from .pb.tendermint.abci import types_pb2 as pb


class Snapshots(Protocol):
    def after_commit(self, height: int) -> None: ...
    def list(self) -> list[pb.Snapshot]: ...
    def offer(self, snapshot: pb.Snapshot,
              app_hash: bytes) -> pb.ResponseOfferSnapshot.Result: ...
    def load_chunk(self, height: int, format: int, index: int) -> bytes: ...
    def apply_chunk(self, index: int, chunk: bytes) -> pb.ResponseApplySnapshotChunk.Result: ...
