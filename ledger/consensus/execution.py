"""Chain state (as CometBFT's `State`) and the block executor: build, validate and apply
blocks against the application. Validator updates returned at height H change
`next_validators` of H+1, so they take effect at H+2."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .. import merkle
from ..abci import (
    MISBEHAVIOR_DUPLICATE_VOTE,
    Application,
    CommitInfo,
    Misbehavior,
    RequestFinalizeBlock,
    RequestInitChain,
    RequestPrepareProposal,
    RequestProcessProposal,
    ResponseFinalizeBlock,
    ValidatorUpdate,
    VoteInfo,
)
from ..encoding import Value, encode
from ..errors import InvalidError
from ..types import (
    Block,
    Commit,
    ConsensusParams,
    DuplicateVoteEvidence,
    Genesis,
    Header,
    ValidatorSet,
    evidence_hash,
    txs_hash,
)


@dataclass(frozen=True)
class ChainState:
    chain_id: str
    initial_height: int
    last_block_height: int  # initial_height - 1 before the first block
    last_block_hash: bytes
    last_block_time: int
    last_validators: ValidatorSet | None
    validators: ValidatorSet
    next_validators: ValidatorSet
    params: ConsensusParams
    app_hash: bytes
    last_results_hash: bytes

    @property
    def next_height(self) -> int:
        return self.last_block_height + 1

    def to_obj(self) -> Value:
        lv = self.last_validators
        return {"chain_id": self.chain_id, "initial_height": self.initial_height,
                "last_block_height": self.last_block_height,
                "last_block_hash": self.last_block_hash, "last_block_time": self.last_block_time,
                "last_validators": None if lv is None else lv.to_obj(),
                "validators": self.validators.to_obj(),
                "next_validators": self.next_validators.to_obj(),
                "params": self.params.to_obj(), "app_hash": self.app_hash,
                "last_results_hash": self.last_results_hash}

    @classmethod
    def from_obj(cls, d: Any) -> ChainState:
        lv = d["last_validators"]
        return cls(d["chain_id"], d["initial_height"], d["last_block_height"],
                   d["last_block_hash"], d["last_block_time"],
                   None if lv is None else ValidatorSet.from_obj(lv),
                   ValidatorSet.from_obj(d["validators"]),
                   ValidatorSet.from_obj(d["next_validators"]),
                   ConsensusParams.from_obj(d["params"]), d["app_hash"], d["last_results_hash"])


_OK_LEAF = encode({"code": 0, "data": b""})


def _result_leaf(code: int, data: bytes) -> bytes:
    """The deterministic part of a tx result (as CometBFT: code and data, not the log)."""
    return _OK_LEAF if code == 0 and not data else encode({"code": code, "data": data})


def genesis_state(g: Genesis, app: Application) -> ChainState:
    """InitChain: the application may replace the genesis validators."""
    res = app.init_chain(RequestInitChain(
        g.genesis_time, g.chain_id, tuple(ValidatorUpdate(pk, p) for pk, p in g.validators),
        g.app_state, g.initial_height))
    vals = (ValidatorSet.new((u.pub_key, u.power) for u in res.validators)
            if res.validators else g.validator_set())
    return ChainState(g.chain_id, g.initial_height, g.initial_height - 1, b"", g.genesis_time,
                      None, vals, vals.copy_increment(1), g.params, res.app_hash,
                      merkle.root([]))


def block_time(state: ChainState, last_commit: Commit | None) -> int:
    if last_commit is None or state.last_validators is None:
        return state.last_block_time  # the initial height uses the genesis time
    return last_commit.median_time(state.last_validators)


def misbehavior(evs: Sequence[DuplicateVoteEvidence]) -> tuple[Misbehavior, ...]:
    return tuple(Misbehavior(MISBEHAVIOR_DUPLICATE_VOTE, e.vote_a.validator_address, e.height,
                             e.timestamp, e.total_voting_power) for e in evs)


def commit_info(commit: Commit | None, vals: ValidatorSet | None) -> CommitInfo:
    """What the application learns of the last commit: who signed it, with what power."""
    if commit is None or vals is None:
        return CommitInfo()
    return CommitInfo(commit.round, tuple(
        VoteInfo(v.address, v.voting_power, s.flag)
        for v, s in zip(vals.validators, commit.signatures, strict=True)))


def finalize_request(block: Block, last_validators: ValidatorSet | None) -> RequestFinalizeBlock:
    return RequestFinalizeBlock(
        block.txs, block.hash(), block.height, block.header.time,
        block.header.proposer_address, misbehavior(block.evidence),
        commit_info(block.last_commit, last_validators))


def make_block(state: ChainState, app: Application, proposer: bytes, txs: Sequence[bytes],
               evidence: Sequence[DuplicateVoteEvidence], last_commit: Commit | None) -> Block:
    """PrepareProposal, then a header that commits to everything."""
    time = block_time(state, last_commit)
    ev_bytes = sum(len(encode(e.to_obj())) for e in evidence)
    max_tx = state.params.max_block_bytes - ev_bytes - 16 * 1024  # room for header and commit
    chosen = app.prepare_proposal(RequestPrepareProposal(
        max_tx, tuple(txs), state.next_height, time, proposer, misbehavior(evidence)))
    header = Header(
        chain_id=state.chain_id, height=state.next_height, time=time,
        last_block_hash=state.last_block_hash,
        last_commit_hash=b"" if last_commit is None else last_commit.hash(),
        data_hash=txs_hash(chosen), validators_hash=state.validators.hash(),
        next_validators_hash=state.next_validators.hash(), consensus_hash=state.params.hash(),
        app_hash=state.app_hash, last_results_hash=state.last_results_hash,
        evidence_hash=evidence_hash(evidence), proposer_address=proposer)
    return Block(header, tuple(chosen), tuple(evidence), last_commit)


def validate_block(state: ChainState, block: Block,
                   check_evidence: Callable[[DuplicateVoteEvidence], None]) -> None:
    """Everything but the application's opinion; raise InvalidError on the first problem."""
    h = block.header
    expected = replace(h, chain_id=state.chain_id, height=state.next_height,
                       last_block_hash=state.last_block_hash,
                       validators_hash=state.validators.hash(),
                       next_validators_hash=state.next_validators.hash(),
                       consensus_hash=state.params.hash(), app_hash=state.app_hash,
                       last_results_hash=state.last_results_hash)
    if h != expected:
        diff = [k for k in h.to_obj() if h.to_obj()[k] != expected.to_obj()[k]]
        raise InvalidError(f"block header has wrong {', '.join(diff)}")
    if state.validators.get(h.proposer_address) is None:
        raise InvalidError("block proposer is not a validator")
    block.check_hashes()
    if len(encode(block.to_obj())) > state.params.max_block_bytes:
        raise InvalidError("block too large")
    if any(len(t) > state.params.max_tx_bytes for t in block.txs):
        raise InvalidError("transaction too large")
    if state.last_validators is None:
        if block.last_commit is not None:
            raise InvalidError("the initial block has no last commit")
    else:
        if block.last_commit is None:
            raise InvalidError("block lacks the last commit")
        block.last_commit.verify(state.chain_id, state.last_validators, state.last_block_height,
                                 state.last_block_hash)
    if h.time != block_time(state, block.last_commit):
        raise InvalidError("block time is not the median time of the last commit")
    seen = set()
    for ev in block.evidence:
        if ev.hash() in seen:
            raise InvalidError("duplicate evidence in block")
        seen.add(ev.hash())
        check_evidence(ev)


def process_proposal(state: ChainState, app: Application, block: Block,
                     check_evidence: Callable[[DuplicateVoteEvidence], None]) -> bool:
    """The paper's valid(v): our checks, then the application's ProcessProposal."""
    try:
        validate_block(state, block, check_evidence)
    except InvalidError:
        return False
    return app.process_proposal(RequestProcessProposal(
        block.txs, block.hash(), block.height, block.header.time,
        block.header.proposer_address, misbehavior(block.evidence)))


def apply_block(state: ChainState, app: Application, block: Block,
                save: Callable[[ChainState], None] = lambda state: None,
                ) -> tuple[ChainState, ResponseFinalizeBlock]:
    """FinalizeBlock, the next state (CometBFT's updateState), `save` of it, then Commit.

    Saving the state before the application commits means a crash leaves the application at
    most one block behind the stored state, never ahead: the restart handshake then replays
    that one block into it, and nothing is ever executed twice."""
    res = app.finalize_block(finalize_request(block, state.last_validators))
    if len(res.tx_results) != len(block.txs):
        raise InvalidError("application returned the wrong number of results")
    new = _next_state(state, block, res)
    save(new)
    app.commit()
    return new, res


def _next_state(state: ChainState, block: Block, res: ResponseFinalizeBlock) -> ChainState:
    nvals = state.next_validators
    if res.validator_updates:
        try:
            nvals = nvals.update([(u.pub_key, u.power) for u in res.validator_updates])
        except InvalidError:
            nvals = state.next_validators  # a bad update from the app changes nothing
    results = merkle.root([_result_leaf(r.code, r.data) for r in res.tx_results])
    return ChainState(state.chain_id, state.initial_height, block.height, block.hash(),
                     block.header.time, state.validators, state.next_validators,
                     nvals.copy_increment(1), state.params, res.app_hash, results)
