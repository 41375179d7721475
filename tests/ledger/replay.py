"""The blocks a node's RPC serves (either engine: both speak CometBFT's JSON-RPC shapes) as the
FinalizeBlock requests the application saw, to run the same blocks through the application
under the other engine."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import cast

from ledger import abci
from ledger.cometbft import convert
from ledger.cometbft.pb.tendermint.abci import types_pb2 as pb
from ledger.cometbft.pb.tendermint.types.validator_pb2 import BlockIDFlag
from ledger.consensus.views import from_rfc3339
from ledger.node import load_genesis
from ledger.rpc import RpcClient


def init_request(home: Path) -> abci.RequestInitChain:
    g = load_genesis(home)
    return abci.RequestInitChain(g.genesis_time, g.chain_id,
                                 tuple(abci.ValidatorUpdate(pk, p) for pk, p in g.validators),
                                 g.app_state, g.initial_height)


async def block_requests(c: RpcClient, top: int
                         ) -> tuple[list[abci.RequestFinalizeBlock], list[bytes]]:
    """Blocks 1..top as requests, and the app hash each block's successor carries (the app's
    state after it), from blocks 2..top+1."""
    reqs: list[abci.RequestFinalizeBlock] = []
    hashes: list[bytes] = []
    for h in range(1, top + 2):
        r = await c.call("block", height=str(h))
        b, header = r["block"], r["block"]["header"]
        if h > 1:
            hashes.append(bytes.fromhex(header["app_hash"]))
        if h > top:
            break
        votes: tuple[abci.VoteInfo, ...] = ()
        lc = b["last_commit"]
        if h > 1:
            vals = await c.validators(h - 1)
            votes = tuple(abci.VoteInfo(bytes.fromhex(v["address"]), v["power"],
                                        int(s["block_id_flag"]))
                          for v, s in zip(vals, lc["signatures"], strict=True))
        reqs.append(abci.RequestFinalizeBlock(
            tuple(base64.b64decode(t) for t in b["data"]["txs"] or []),
            bytes.fromhex(r["block_id"]["hash"]), h, from_rfc3339(header["time"]),
            bytes.fromhex(header["proposer_address"]), (),
            abci.CommitInfo(int(lc["round"]) if lc else 0, votes)))
    return reqs, hashes


def init_pb(req: abci.RequestInitChain) -> pb.Request:
    return pb.Request(init_chain=pb.RequestInitChain(
        time=convert.timestamp(req.time), chain_id=req.chain_id,
        validators=convert.validator_updates_out(req.validators),
        app_state_bytes=json.dumps(req.app_state).encode(), initial_height=req.initial_height))


def finalize_pb(req: abci.RequestFinalizeBlock) -> pb.Request:
    return pb.Request(finalize_block=pb.RequestFinalizeBlock(
        txs=req.txs, hash=req.hash, height=req.height, time=convert.timestamp(req.time),
        proposer_address=req.proposer_address,
        decided_last_commit=pb.CommitInfo(round=req.decided_last_commit.round, votes=[
            pb.VoteInfo(validator=pb.Validator(address=v.validator_address, power=v.power),
                        block_id_flag=cast(BlockIDFlag, v.block_id_flag))
            for v in req.decided_last_commit.votes])))
