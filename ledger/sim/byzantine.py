"""Byzantine behaviours, applied to what a faulty validator's honest replica wants to send.

- silent: sends nothing at all;
- equivocate: every vote goes out twice, signed for two different values, one to each half of
  the peers; every proposal is split the same way between two different valid blocks;
- split-proposal: every proposal goes out as two different valid blocks, one to each half of
  the peers, and its own votes for the first name the second, to everyone (so the block a
  node received second gathers the quorum); not drawn by random scenarios;
- invalid: proposes invalid blocks (bad app hash, invalid transaction, wrong time, forged last
  commit) and sends garbage, forged and oversized messages.
"""

from __future__ import annotations

import random
from dataclasses import replace

from ..consensus.messages import ProposalMsg, VoteMsg, decode_msg, encode_msg
from ..crypto import PrivateKey
from ..types import Block, Commit, txs_hash

SILENT, EQUIVOCATE, INVALID = "silent", "equivocate", "invalid"
SPLIT_PROPOSAL = "split-proposal"
KINDS = (SILENT, EQUIVOCATE, INVALID)  # what random scenarios draw from


def split(rng: random.Random, peers: list[str]) -> tuple[list[str], list[str]]:
    shuffled = peers[:]
    rng.shuffle(shuffled)
    half = len(shuffled) // 2
    return shuffled[:half], shuffled[half:]


def equivocate(data: bytes, key: PrivateKey, chain_id: str) -> bytes | None:
    """A conflicting twin of our own vote or proposal, validly signed; None for other messages."""
    msg = decode_msg(data)
    if isinstance(msg, VoteMsg) and msg.vote.validator_address == key.address:
        v = msg.vote
        other = None if v.block_hash is not None else bytes(32)
        return encode_msg(VoteMsg(replace(v, block_hash=other).signed(key, chain_id)))
    if isinstance(msg, ProposalMsg):
        b = msg.block
        txs = b.txs + (f"byz/{b.height}/{msg.proposal.round}=twin".encode(),)
        twin = replace(b, header=replace(b.header, data_hash=txs_hash(txs)), txs=txs)
        p = replace(msg.proposal, block_hash=twin.hash()).signed(key, chain_id)
        return encode_msg(ProposalMsg(p, twin))
    return None


def corrupt_proposal(data: bytes, key: PrivateKey, chain_id: str, rng: random.Random) -> bytes:
    """Our own proposal with an invalid block, re-signed so only its content is wrong."""
    msg = decode_msg(data)
    if not isinstance(msg, ProposalMsg):
        return data
    b = msg.block
    how = rng.randrange(4)
    bad: Block
    if how == 0:
        bad = replace(b, header=replace(b.header, app_hash=bytes(32)))
    elif how == 1:
        txs = b.txs + (b"\xff\xfe not utf-8",)
        bad = replace(b, header=replace(b.header, data_hash=txs_hash(txs)), txs=txs)
    elif how == 2:
        bad = replace(b, header=replace(b.header, time=b.header.time + 3_600_000))
    else:
        lc = b.last_commit
        if lc is None:
            bad = replace(b, header=replace(b.header, app_hash=b"\x01" * 32))
        else:
            forged = Commit(lc.height, lc.round, lc.block_hash, lc.signatures[:1])
            bad = replace(b, header=replace(b.header, last_commit_hash=forged.hash()),
                          last_commit=forged)
    p = replace(msg.proposal, block_hash=bad.hash()).signed(key, chain_id)
    return encode_msg(ProposalMsg(p, bad))


def garbage(rng: random.Random, data: bytes) -> bytes:
    """Malformed input: truncated, bit-flipped (bad signature or bad encoding) or oversized."""
    how = rng.randrange(3)
    if how == 0:
        return data[: rng.randrange(len(data))]
    if how == 1:
        i = rng.randrange(len(data))
        return data[:i] + bytes([data[i] ^ 0x40]) + data[i + 1 :]
    return b"l\xff\xff\xff\x0f" + bytes(64)
