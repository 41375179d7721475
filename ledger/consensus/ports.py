"""What a replica needs from storage and the mempool. The simulator implements these in
memory (surviving simulated crashes); the node adapts the sqlite stores, WAL and mempool."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..abci import ExecTxResult
from ..types import Block, Commit, ValidatorSet
from .execution import ChainState


class BlockStore(Protocol):
    def height(self) -> int: ...  # 0 when empty
    def save(self, block: Block, seen_commit: Commit) -> None: ...
    def block(self, height: int) -> Block | None: ...
    def commit(self, height: int) -> Commit | None: ...
    def evidence_since(self, height: int) -> list[bytes]: ...  # hashes committed from height on


class StateStore(Protocol):
    def load(self) -> ChainState | None: ...
    def save(self, state: ChainState) -> None: ...  # also keeps validators by height
    def validators(self, height: int) -> ValidatorSet | None: ...


class WAL(Protocol):
    def append(self, record: bytes, sync: bool = False) -> None: ...
    def sync(self) -> None: ...  # make every appended record durable
    def end_height(self, height: int) -> None: ...  # durable marker: height is committed
    def messages_after(self, height: int) -> list[bytes] | None: ...  # since that marker


class Mempool(Protocol):
    def add(self, tx: bytes) -> bool: ...  # False if already present or full
    def reap(self, max_bytes: int) -> list[bytes]: ...
    def update(self, height: int, committed: Sequence[bytes],
               results: Sequence[ExecTxResult]) -> None: ...
    def __len__(self) -> int: ...
