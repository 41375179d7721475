"""A proposal whose transactions this node has not seen is held while their signatures are
checked on a thread (the ledger application's real signature listing, libsodium), then handed
on; forged signatures are not remembered; duplicates and other messages are not held."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ledger import crypto
from ledger.abci import RequestInitChain
from ledger.app import client
from ledger.app.app import LedgerApp
from ledger.app.store import VersionedStore
from ledger.blocksigs import BlockSignatures
from ledger.consensus.messages import ProposalMsg, StatusMsg, encode_msg
from ledger.crypto import PrivateKey
from ledger.types import Block, Header, Proposal, txs_hash


def proposal_of(txs: list[bytes]) -> bytes:
    h = Header("bs", 2, 0, b"x" * 32, b"", txs_hash(txs), b"v" * 32, b"v" * 32, b"c" * 32,
               b"a" * 32, b"r" * 32, b"e" * 32, b"p" * 20)
    block = Block(h, tuple(txs), (), None)
    return encode_msg(ProposalMsg(Proposal(2, 0, -1, block.hash(), 1, b"s" * 64), block))


async def test_unseen_signatures_are_checked_off_the_loop_first(tmp_path: Path) -> None:
    app = LedgerApp(VersionedStore.open(tmp_path / "app.db", retain=10))
    keys = [PrivateKey.from_secret(f"bs{i}".encode()) for i in range(4)]
    app.init_chain(RequestInitChain(0, "bs", (), {"balances": {
        client.account_address(k): 10**6 for k in keys}}, 1))
    app.commit()
    txs = [client.send(k, "bs", 0, keys[0].address, 1) for k in keys]
    forged = bytearray(txs[3])
    forged[-5] ^= 1  # inside the signature, the last field
    txs[3] = bytes(forged)
    seen = {txs[0]}  # already in the mempool: its signature was checked at ingestion
    delivered: list[tuple[str, bytes]] = []
    bs = BlockSignatures(app.signatures, seen.__contains__,
                         lambda p, msg, m: delivered.append((p, m)))
    payload = proposal_of(txs)
    assert bs.offer("peer", payload)
    assert bs.offer("other", payload)  # the same bytes while held: dropped
    assert not bs.offer("peer", encode_msg(StatusMsg(3)))  # not a block: straight on
    seen_only = proposal_of([txs[0]])
    assert bs.offer("peer", seen_only) and delivered == [("peer", seen_only)]  # at once
    delivered.clear()
    for _ in range(200):
        if delivered:
            break
        await asyncio.sleep(0.01)
    assert delivered == [("peer", payload)]
    triples = [app.signatures(t)[0] for t in txs]
    assert [crypto.known_valid(*t) for t in triples[1:]] == [True, True, False]
    assert not crypto.verify(*triples[3]) and bs.stats["verified"] == 2
    await bs.stop()


async def test_without_a_signature_listing_nothing_is_held() -> None:
    bs = BlockSignatures(None, lambda tx: False, lambda p, msg, m: None)
    assert not bs.offer("peer", proposal_of([b"tx"]))
    full = BlockSignatures(lambda tx: [], lambda tx: False, lambda p, msg, m: None, max_pending=0)
    assert not full.offer("peer", proposal_of([b"tx"]))  # no room: the replica checks


async def test_a_slow_check_does_not_hold_the_block_past_its_budget() -> None:
    key = PrivateKey.from_secret(b"bs-slow")
    msgs = [f"slow{i}".encode() for i in range(3)]
    sigs = {m: key.sign(m) for m in msgs}

    def slow(tx: bytes) -> list[crypto.Triple]:
        time.sleep(0.2)  # a starved machine
        return [(key.pub_key, tx, sigs[tx])]

    delivered: list[float] = []
    bs = BlockSignatures(slow, lambda tx: False, lambda p, msg, m: delivered.append(
        time.monotonic()), max_hold=0.05)
    t0 = time.monotonic()
    assert bs.offer("peer", proposal_of(msgs))
    for _ in range(200):
        if bs.stats["verified"]:
            break
        await asyncio.sleep(0.01)
    assert len(delivered) == 1 and delivered[0] - t0 < 0.4  # on time, not after 0.6 s
    assert bs.stats["late"] == 1 and bs.stats["verified"] == 3  # the check still finished
    assert all(crypto.known_valid(key.pub_key, m, sigs[m]) for m in msgs)
    await bs.stop()
