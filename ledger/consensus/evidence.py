"""Evidence of equivocation: detection (from the vote sets), verification, a pool of pending
evidence for proposers, and the record of what was already committed."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InvalidError
from ..types import DuplicateVoteEvidence, ValidatorSet, Vote

MAX_PENDING = 1000


def verify_evidence(ev: DuplicateVoteEvidence, chain_id: str, vals: ValidatorSet | None,
                    time_at_height: int | None, current_height: int, max_age: int) -> None:
    """Raise InvalidError unless `ev` proves a validator of `vals` signed two different votes
    for the same height, round and type (CometBFT's DuplicateVoteEvidence.ValidateBasic and
    VerifyDuplicateVote)."""
    a, b = ev.vote_a, ev.vote_b
    if (a.height, a.round, a.type) != (b.height, b.round, b.type):
        raise InvalidError("evidence votes are for different steps")
    if a.validator_address != b.validator_address or a.validator_index != b.validator_index:
        raise InvalidError("evidence votes are from different validators")
    if a.block_hash == b.block_hash:
        raise InvalidError("evidence votes do not conflict")
    if (a.block_hash or b"") >= (b.block_hash or b""):
        raise InvalidError("evidence votes are not in canonical order")
    if ev.height >= current_height or current_height - ev.height > max_age:
        raise InvalidError("evidence is from the future or expired")
    if vals is None or time_at_height is None:
        raise InvalidError("evidence height is unknown")
    val = vals.get(a.validator_address)
    if val is None or vals.index_of(a.validator_address) != a.validator_index:
        raise InvalidError("evidence names a non-validator")
    if ev.validator_power != val.voting_power or ev.total_voting_power != vals.total_power:
        raise InvalidError("evidence has wrong voting powers")
    if ev.timestamp != time_at_height:
        raise InvalidError("evidence time differs from the block time at its height")
    for v in (a, b):
        if not v.verify(chain_id, val.pub_key):
            raise InvalidError("evidence vote has a bad signature")


class EvidencePool:
    """Pending evidence (verified, not yet committed) and the hashes of committed evidence.

    Conflicts seen at the current height wait in `_buffer` until that height is committed,
    because the evidence carries the block time at its height (as CometBFT's consensus buffer).
    """

    def __init__(self, chain_id: str, max_age: int,
                 vals_at: Callable[[int], ValidatorSet | None],
                 time_at: Callable[[int], int | None]) -> None:
        self.chain_id = chain_id
        self.max_age = max_age
        self.vals_at = vals_at
        self.time_at = time_at
        self.pending: dict[bytes, DuplicateVoteEvidence] = {}
        self.committed: set[bytes] = set()
        self._buffer: list[tuple[Vote, Vote]] = []

    def check(self, ev: DuplicateVoteEvidence, current_height: int) -> None:
        if ev.hash() in self.committed:
            raise InvalidError("evidence already committed")
        verify_evidence(ev, self.chain_id, self.vals_at(ev.height), self.time_at(ev.height),
                        current_height, self.max_age)

    def add(self, ev: DuplicateVoteEvidence, current_height: int) -> bool:
        """Verify and keep; True if new (to gossip on). Raises InvalidError if bad."""
        h = ev.hash()
        if h in self.pending or h in self.committed:
            return False
        self.check(ev, current_height)
        if len(self.pending) < MAX_PENDING:
            self.pending[h] = ev
        return True

    def report(self, first: Vote, second: Vote) -> None:
        if len(self._buffer) < MAX_PENDING:
            self._buffer.append((first, second))

    def for_block(self, limit: int = 50) -> list[DuplicateVoteEvidence]:
        return [self.pending[h] for h in sorted(self.pending)][:limit]

    def update(self, committed_height: int,
               block_evidence: tuple[DuplicateVoteEvidence, ...]) -> list[DuplicateVoteEvidence]:
        """After committing a block: mark its evidence, turn buffered conflicts into evidence.
        Returns the newly formed evidence (to gossip)."""
        for ev in block_evidence:
            self.committed.add(ev.hash())
            self.pending.pop(ev.hash(), None)
        for h in [h for h, e in self.pending.items()
                  if committed_height + 1 - e.height > self.max_age]:
            del self.pending[h]
        new = []
        keep = []
        for a, b in self._buffer:
            vals, t = self.vals_at(a.height), self.time_at(a.height)
            if vals is None or t is None:
                if a.height > committed_height:
                    keep.append((a, b))
                continue
            ev = DuplicateVoteEvidence.make(a, b, vals, t)
            try:
                if self.add(ev, committed_height + 1):
                    new.append(ev)
            except InvalidError:
                pass
        self._buffer = keep
        return new
