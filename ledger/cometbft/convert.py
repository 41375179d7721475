"""CometBFT v0.38's ABCI protobuf messages <-> our ABCI dataclasses (`ledger.abci`).

Times cross as milliseconds since the epoch (our blocks' unit; CometBFT's nanoseconds below a
millisecond are dropped, the same on every node, so the application stays deterministic).
Public keys cross as raw ed25519 bytes; a query proof crosses as one ProofOp of our type."""

from __future__ import annotations

import json
from collections.abc import Iterable

from google.protobuf.timestamp_pb2 import Timestamp

from .. import abci
from ..errors import DecodeError
from .pb.tendermint.abci import types_pb2 as pb
from .pb.tendermint.crypto import keys_pb2, proof_pb2


def ms(ts: Timestamp) -> int:
    return ts.seconds * 1000 + ts.nanos // 1_000_000


def timestamp(ms_: int) -> Timestamp:
    return Timestamp(seconds=ms_ // 1000, nanos=(ms_ % 1000) * 1_000_000)


def pub_key(pk: keys_pb2.PublicKey) -> bytes:
    if pk.WhichOneof("sum") != "ed25519" or len(pk.ed25519) != 32:
        raise DecodeError("only 32-byte ed25519 validator keys are supported")
    return pk.ed25519


def validator_update_in(u: pb.ValidatorUpdate) -> abci.ValidatorUpdate:
    return abci.ValidatorUpdate(pub_key(u.pub_key), u.power)


def validator_updates_out(us: Iterable[abci.ValidatorUpdate]) -> list[pb.ValidatorUpdate]:
    return [pb.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=u.pub_key), power=u.power)
            for u in us]


def misbehavior(ms_: Iterable[pb.Misbehavior]) -> tuple[abci.Misbehavior, ...]:
    return tuple(abci.Misbehavior(m.type, m.validator.address, m.height, ms(m.time),
                                  m.total_voting_power) for m in ms_)


def commit_info(c: pb.CommitInfo) -> abci.CommitInfo:
    return abci.CommitInfo(c.round, tuple(
        abci.VoteInfo(v.validator.address, v.validator.power, v.block_id_flag)
        for v in c.votes))


def events_out(events: Iterable[abci.Event]) -> list[pb.Event]:
    return [pb.Event(type=e.type, attributes=[
        pb.EventAttribute(key=a.key, value=a.value, index=a.index) for a in e.attributes])
        for e in events]


# ------------------------------------------------------------------- requests


def init_chain(r: pb.RequestInitChain) -> abci.RequestInitChain:
    try:
        state = json.loads(r.app_state_bytes) if r.app_state_bytes else None
    except ValueError as e:
        raise DecodeError(f"the genesis app_state is not JSON: {e}") from None
    return abci.RequestInitChain(ms(r.time), r.chain_id,
                                 tuple(validator_update_in(u) for u in r.validators), state,
                                 r.initial_height)


def prepare_proposal(r: pb.RequestPrepareProposal) -> abci.RequestPrepareProposal:
    return abci.RequestPrepareProposal(r.max_tx_bytes, tuple(r.txs), r.height, ms(r.time),
                                       r.proposer_address, misbehavior(r.misbehavior))


def process_proposal(r: pb.RequestProcessProposal) -> abci.RequestProcessProposal:
    return abci.RequestProcessProposal(tuple(r.txs), r.hash, r.height, ms(r.time),
                                       r.proposer_address, misbehavior(r.misbehavior))


def finalize_block(r: pb.RequestFinalizeBlock) -> abci.RequestFinalizeBlock:
    return abci.RequestFinalizeBlock(tuple(r.txs), r.hash, r.height, ms(r.time),
                                     r.proposer_address, misbehavior(r.misbehavior),
                                     commit_info(r.decided_last_commit))


# ------------------------------------------------------------------ responses


def info_out(r: abci.ResponseInfo) -> pb.ResponseInfo:
    return pb.ResponseInfo(data=r.data, version=r.version, app_version=r.app_version,
                           last_block_height=r.last_block_height,
                           last_block_app_hash=r.last_block_app_hash)


def init_chain_out(r: abci.ResponseInitChain) -> pb.ResponseInitChain:
    return pb.ResponseInitChain(validators=validator_updates_out(r.validators),
                                app_hash=r.app_hash)


def check_tx_out(r: abci.ResponseCheckTx) -> pb.ResponseCheckTx:
    return pb.ResponseCheckTx(code=r.code, log=r.log, gas_wanted=r.gas_wanted,
                              codespace=r.codespace)


def exec_tx_result_out(r: abci.ExecTxResult) -> pb.ExecTxResult:
    return pb.ExecTxResult(code=r.code, data=r.data, log=r.log, gas_wanted=r.gas_wanted,
                           gas_used=r.gas_used, events=events_out(r.events),
                           codespace=r.codespace)


def finalize_block_out(r: abci.ResponseFinalizeBlock) -> pb.ResponseFinalizeBlock:
    return pb.ResponseFinalizeBlock(
        events=events_out(r.events), tx_results=[exec_tx_result_out(t) for t in r.tx_results],
        validator_updates=validator_updates_out(r.validator_updates), app_hash=r.app_hash)


def query_out(r: abci.ResponseQuery, prove: bool) -> pb.ResponseQuery:
    out = pb.ResponseQuery(code=r.code, log=r.log, key=r.key, value=r.value, height=r.height,
                           codespace=r.codespace)
    if prove and r.proof_type:
        out.proof_ops.CopyFrom(proof_pb2.ProofOps(ops=[
            proof_pb2.ProofOp(type=r.proof_type, key=r.key, data=r.proof)]))
    return out
