"""Signatures of the transactions a block brings that this node has not seen, checked on a
worker thread before the replica sees the block.

Under load a proposer often includes transactions that its gossip has not yet brought to the
others; their ProcessProposal would then verify each signature on the event loop, with the
slower OpenSSL check, while votes wait. So a proposal (or a synced block) whose transactions
are not all in the mempool is held back: the application lists the signatures of those
(`abci.SignedTxs`), libsodium checks them on a thread (it releases the GIL), the valid ones
are remembered (`crypto.remember_valid`), and only then is the message handed to the replica,
whose checks find them done. Nothing is decided here: a signature that fails is simply not
remembered, and the replica's own check refuses the block as before.

Held messages are few (`max_pending`, beyond which a message goes straight on), held for at
most `max_hold` (on a starved machine the check may take longer than the round can wait: the
message then goes on and the replica checks what is left), and the same bytes arriving again
while held are dropped (the held copy is delivered). Other messages are not held, so votes
keep flowing; a replica handles a block's votes before the block anyway.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable

from . import crypto
from .consensus.messages import BlockResponse, Message, ProposalMsg, decode_msg
from .errors import DecodeError

log = logging.getLogger("ledger.blocksigs")

Signatures = Callable[[bytes], list[crypto.Triple]]
# What a proposal or a block response encodes to first (a dict whose first key is "b").
_BLOCK_PREFIX = b"d\x03s\x01b"


class BlockSignatures:
    def __init__(self, signatures: Signatures | None, seen: Callable[[bytes], bool],
                 deliver: Callable[[str, Message, bytes], None], max_pending: int = 4,
                 max_hold: float = 0.25) -> None:
        self.signatures = signatures
        self.seen = seen  # a transaction whose signature was checked (mempool, committed)
        self.deliver = deliver
        self.max_pending = max_pending
        self.max_hold = max_hold  # seconds; then the message goes on, checked or not
        self.stats = {"held": 0, "verified": 0, "dropped": 0, "late": 0}
        self._pending: set[bytes] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def offer(self, peer: str, payload: bytes) -> bool:
        """True if the message was taken: held (delivered later, or dropped as a duplicate of
        a held one), or delivered at once, decoded, when nothing in it needs a check; False:
        the caller hands it to the replica."""
        if self.signatures is None or not payload.startswith(_BLOCK_PREFIX) \
                or len(self._pending) >= self.max_pending:
            return False
        try:
            msg = decode_msg(payload)
        except DecodeError:
            return False  # the replica penalizes it
        if not isinstance(msg, ProposalMsg | BlockResponse):
            return False
        fresh = [tx for tx in msg.block.txs if not self.seen(tx)]
        if not fresh:
            self.deliver(peer, msg, payload)  # decoded here: not decoded again
            return True
        key = hashlib.sha256(payload).digest()
        if key in self._pending:
            self.stats["dropped"] += 1
            return True
        self._pending.add(key)
        self.stats["held"] += 1
        task = asyncio.get_running_loop().create_task(
            self._check(key, peer, msg, payload, fresh))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _check(self, key: bytes, peer: str, msg: Message, payload: bytes,
                     txs: list[bytes]) -> None:
        sigs = self.signatures
        assert sigs is not None

        def work() -> list[crypto.Triple]:
            triples = []
            for tx in txs:
                try:
                    triples += [t for t in sigs(tx) if not crypto.known_valid(*t)]
                except Exception:  # malformed: the application's checks will say why
                    continue
            return [t for t, ok in zip(triples, crypto.check_many(triples), strict=True) if ok]

        job = asyncio.get_running_loop().run_in_executor(None, work)
        held = True
        try:
            try:
                valid = await asyncio.wait_for(asyncio.shield(job), self.max_hold)
            except TimeoutError:  # a starved machine: the round's timeouts matter more
                self.stats["late"] += 1
                held = False
                self._release(key, peer, msg, payload)
                valid = await job  # what it finds still spares later checks
            crypto.remember_valid(valid)
            self.stats["verified"] += len(valid)
        except Exception:  # the replica checks on the loop instead
            log.exception("checking a block's signatures off the loop failed")
        if held:
            self._release(key, peer, msg, payload)

    def _release(self, key: bytes, peer: str, msg: Message, payload: bytes) -> None:
        self._pending.discard(key)
        self.deliver(peer, msg, payload)  # decoded once: the replica takes it as it is
