"""Votes of one height, by round and type, with power-weighted tallies.

As in the paper, "2f+1 <PREVOTE, h, r, id(v)>" counts distinct senders of that very message:
a validator that equivocates counts toward each value it signed (otherwise an equivocator can
show each half of the network a different vote and keep a correct lock from ever being
justified to the others). Its second vote is also handed back as evidence. At most
MAX_VALUES_PER_VALIDATOR different values per validator, round and type are kept.
"""

from __future__ import annotations

from ..types import PRECOMMIT, PREVOTE, Vote

MAX_VALUES_PER_VALIDATOR = 8


class RoundVotes:
    __slots__ = ("votes", "by_value", "power_for", "power_any")

    def __init__(self) -> None:
        self.votes: dict[int, Vote] = {}  # first vote of each validator
        self.by_value: dict[int, dict[bytes | None, Vote]] = {}
        self.power_for: dict[bytes | None, int] = {}
        self.power_any = 0


class HeightVotes:
    def __init__(self, height: int, powers: list[int]) -> None:
        self.height = height
        self.powers = powers
        self.total = sum(powers)
        self.rounds: dict[tuple[int, int], RoundVotes] = {}
        # Distinct senders per round (any message type): the paper's f+1 round-skip rule.
        self.senders: dict[int, set[int]] = {}

    def quorum(self, power: int) -> bool:
        """More than two thirds of the voting power (the paper's 2f+1)."""
        return 3 * power > 2 * self.total

    def one_third(self, power: int) -> bool:
        """More than one third (the paper's f+1): at least one correct process is there."""
        return 3 * power > self.total

    def get(self, round_: int, type_: int) -> RoundVotes:
        rv = self.rounds.get((round_, type_))
        if rv is None:
            rv = self.rounds[(round_, type_)] = RoundVotes()
        return rv

    def add(self, vote: Vote) -> tuple[bool, Vote | None]:
        """Record a (verified) vote. Returns (is_new, conflicting_earlier_vote)."""
        rv = self.get(vote.round, vote.type)
        i = vote.validator_index
        mine = rv.by_value.setdefault(i, {})
        if vote.block_hash in mine or len(mine) >= MAX_VALUES_PER_VALIDATOR:
            return False, None
        mine[vote.block_hash] = vote
        p = self.powers[i]
        rv.power_for[vote.block_hash] = rv.power_for.get(vote.block_hash, 0) + p
        old = rv.votes.get(i)
        if old is not None:
            return True, old
        rv.votes[i] = vote
        rv.power_any += p
        self.note_sender(vote.round, i)
        return True, None

    def note_sender(self, round_: int, index: int) -> None:
        self.senders.setdefault(round_, set()).add(index)

    def sender_power(self, round_: int) -> int:
        return sum(self.powers[i] for i in self.senders.get(round_, ()))

    def has_quorum_for(self, round_: int, type_: int, block_hash: bytes | None) -> bool:
        rv = self.rounds.get((round_, type_))
        return rv is not None and self.quorum(rv.power_for.get(block_hash, 0))

    def quorum_any(self, round_: int, type_: int) -> bool:
        rv = self.rounds.get((round_, type_))
        return rv is not None and self.quorum(rv.power_any)

    def quorum_block(self, round_: int, type_: int) -> bytes | None:
        """The non-nil block with +2/3 of `type_` votes in `round_`, if any."""
        rv = self.rounds.get((round_, type_))
        if rv is None:
            return None
        for h, p in rv.power_for.items():
            if h is not None and self.quorum(p):
                return h
        return None

    def all_votes(self) -> list[Vote]:
        return [v for k in sorted(self.rounds) for _, v in sorted(self.rounds[k].votes.items())]


__all__ = ["HeightVotes", "RoundVotes", "PREVOTE", "PRECOMMIT"]
