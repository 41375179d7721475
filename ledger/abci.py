"""The application boundary, shaped like ABCI 2.0 (CometBFT v0.38): the engine calls these
methods; a production deployment could run the same application under CometBFT.

Events are ABCI events (a type and ordered string attributes, `index` marking what the
transaction index may search); a query may carry a proof of its answer against the app hash
of the height it reports (`proof_type` names the proof format)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from .encoding import Value

MISBEHAVIOR_DUPLICATE_VOTE = 1
CODE_OK = 0
BLOCK_ID_FLAG_ABSENT, BLOCK_ID_FLAG_COMMIT, BLOCK_ID_FLAG_NIL = 1, 2, 3


# Cheap to make (a block of transfers makes tens of thousands): not frozen (a frozen
# dataclass sets each field through object.__setattr__), and Event a named tuple.
@dataclass(slots=True)
class EventAttribute:
    key: str
    value: str
    index: bool = True


class Event(NamedTuple):
    type: str
    attributes: tuple[EventAttribute, ...] = ()


@dataclass(frozen=True)
class VoteInfo:
    """One validator of the last commit: did its precommit for the block make it in?"""

    validator_address: bytes
    power: int
    block_id_flag: int


@dataclass(frozen=True)
class CommitInfo:
    round: int = 0
    votes: tuple[VoteInfo, ...] = ()


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
    gas_wanted: int = 0
    codespace: str = ""

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
    decided_last_commit: CommitInfo = CommitInfo()


@dataclass(frozen=True)
class ExecTxResult:
    code: int = CODE_OK
    data: bytes = b""
    log: str = ""  # not part of any hash (non-deterministic text is allowed here)
    gas_wanted: int = 0
    gas_used: int = 0
    events: tuple[Event, ...] = ()
    codespace: str = ""


@dataclass(frozen=True)
class ResponseFinalizeBlock:
    tx_results: tuple[ExecTxResult, ...]
    validator_updates: tuple[ValidatorUpdate, ...] = ()
    app_hash: bytes = b""
    events: tuple[Event, ...] = field(default=())  # block events (fees, rewards...)


@dataclass(frozen=True)
class ResponseQuery:
    code: int = CODE_OK
    value: bytes = b""
    log: str = ""
    height: int = 0
    key: bytes = b""
    proof: bytes = b""  # empty unless asked for; verified against the app hash after `height`
    proof_type: str = ""
    codespace: str = ""


@dataclass(frozen=True)
class ResponseInfo:
    last_block_height: int
    last_block_app_hash: bytes
    data: str = ""
    version: str = ""
    app_version: int = 0


class Application(Protocol):
    def info(self) -> ResponseInfo: ...
    def init_chain(self, req: RequestInitChain) -> ResponseInitChain: ...
    def check_tx(self, tx: bytes, recheck: bool = False) -> ResponseCheckTx: ...
    def prepare_proposal(self, req: RequestPrepareProposal) -> tuple[bytes, ...]: ...
    def process_proposal(self, req: RequestProcessProposal) -> bool: ...
    def finalize_block(self, req: RequestFinalizeBlock) -> ResponseFinalizeBlock: ...
    def commit(self) -> int: ...  # returns retain_height (0: keep everything)
    def query(self, path: str, data: bytes, height: int = 0,
              prove: bool = False) -> ResponseQuery: ...


class SignedTxs(Protocol):
    """Optional: the (public key, message, signature) triples a transaction carries, found
    without state, so that a node can verify them in bulk off its consensus path; the
    application's own CheckTx then finds them in `crypto.verify`'s cache."""

    def signatures(self, tx: bytes) -> list[tuple[bytes, bytes, bytes]]: ...
