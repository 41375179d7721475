"""The application boundary, shaped like ABCI 2.0 (CometBFT v0.38): the engine calls these
methods; a production deployment could run the same application under CometBFT."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .encoding import Value

MISBEHAVIOR_DUPLICATE_VOTE = 1
CODE_OK = 0


@dataclass(frozen=True)
class ValidatorUpdate:
    pub_key: bytes
    power: int  # 0 removes the validator


@dataclass(frozen=True)
class Misbehavior:
    type: int
    validator_address: bytes
    height: int
    time: int
    total_voting_power: int


@dataclass(frozen=True)
class RequestInitChain:
    time: int
    chain_id: str
    validators: tuple[ValidatorUpdate, ...]
    app_state: Value
    initial_height: int


@dataclass(frozen=True)
class ResponseInitChain:
    validators: tuple[ValidatorUpdate, ...] = ()  # empty: keep the genesis validators
    app_hash: bytes = b""


@dataclass(frozen=True)
class ResponseCheckTx:
    code: int = CODE_OK
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.code == CODE_OK


@dataclass(frozen=True)
class RequestPrepareProposal:
    max_tx_bytes: int
    txs: tuple[bytes, ...]
    height: int
    time: int
    proposer_address: bytes
    misbehavior: tuple[Misbehavior, ...] = ()


@dataclass(frozen=True)
class RequestProcessProposal:
    txs: tuple[bytes, ...]
    hash: bytes
    height: int
    time: int
    proposer_address: bytes
    misbehavior: tuple[Misbehavior, ...] = ()


@dataclass(frozen=True)
class RequestFinalizeBlock:
    txs: tuple[bytes, ...]
    hash: bytes
    height: int
    time: int
    proposer_address: bytes
    misbehavior: tuple[Misbehavior, ...] = ()


@dataclass(frozen=True)
class ExecTxResult:
    code: int = CODE_OK
    data: bytes = b""
    log: str = ""  # not part of any hash (non-deterministic text is allowed here)


@dataclass(frozen=True)
class ResponseFinalizeBlock:
    tx_results: tuple[ExecTxResult, ...]
    validator_updates: tuple[ValidatorUpdate, ...] = ()
    app_hash: bytes = b""
    events: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ResponseQuery:
    code: int = CODE_OK
    value: bytes = b""
    log: str = ""
    height: int = 0


@dataclass(frozen=True)
class ResponseInfo:
    last_block_height: int
    last_block_app_hash: bytes
    data: str = ""


class Application(Protocol):
    def info(self) -> ResponseInfo: ...
    def init_chain(self, req: RequestInitChain) -> ResponseInitChain: ...
    def check_tx(self, tx: bytes) -> ResponseCheckTx: ...
    def prepare_proposal(self, req: RequestPrepareProposal) -> tuple[bytes, ...]: ...
    def process_proposal(self, req: RequestProcessProposal) -> bool: ...
    def finalize_block(self, req: RequestFinalizeBlock) -> ResponseFinalizeBlock: ...
    def commit(self) -> int: ...  # returns retain_height (0: keep everything)
    def query(self, path: str, data: bytes, height: int = 0) -> ResponseQuery: ...
