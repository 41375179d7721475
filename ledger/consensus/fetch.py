"""Fetching a block that a quorum of votes names and we have not received (a faulty proposer
showed it to others only, or the network lost it), as CometBFT fetches block parts.

Per height, bounded: who sent us votes for which (round, block) (they, or their voter, hold it),
when we last asked for each, and when we last answered each (peer, round, block). Pure
bookkeeping: it returns what to send; the replica sends it.
"""

from __future__ import annotations

MAX_HOLDERS = 4  # peers remembered per (round, block) as having sent votes for it
MAX_HOLDER_KEYS = 256  # (round, block) pairs remembered per height; beyond, ask everyone
MAX_ANSWERED = 1024  # (peer, round, block) answers remembered per height (rate limit)
FETCH_PER_TICK = 4  # missing blocks asked for again per gossip tick

Key = tuple[int, bytes]  # (round, block hash)


class ProposalFetch:
    def __init__(self, interval: int) -> None:
        self.interval = interval  # at most one ask, and one answer per peer, per interval
        self.clear()

    def clear(self) -> None:
        """A new height: forget everything."""
        self.holders: dict[Key, list[str]] = {}
        self.asked: dict[Key, int] = {}
        self.answered: dict[tuple[str, int, bytes], int] = {}

    def note_holder(self, peer: str, round_: int, block_hash: bytes) -> None:
        """A peer that sent a vote for a block is likely to have it (its voter did)."""
        key = (round_, block_hash)
        holders = self.holders.get(key)
        if holders is None:
            if len(self.holders) >= MAX_HOLDER_KEYS:
                return
            holders = self.holders[key] = []
        if peer not in holders and len(holders) < MAX_HOLDERS:
            holders.append(peer)

    def ask(self, round_: int, block_hash: bytes, now: int) -> list[str | None]:
        """Whom to ask now: every remembered holder (one may be a faulty voter without the
        block), or everyone (None) if none is known; nobody if we asked within the interval,
        since a late block may cost the round but a flood helps no one."""
        key = (round_, block_hash)
        last = self.asked.get(key)
        if last is not None and now - last < self.interval:
            return []
        self.asked[key] = now
        return list(self.holders.get(key, [])) or [None]

    def may_answer(self, peer: str, round_: int, block_hash: bytes, now: int) -> bool:
        key = (peer, round_, block_hash)
        last = self.answered.get(key)
        if last is not None and now - last < self.interval:
            return False
        if len(self.answered) >= MAX_ANSWERED:
            self.answered.clear()
        self.answered[key] = now
        return True
