"""Proposals, deposits and votes in the store.

  gov/next_id                      -> encode(int): the next proposal id (ids start at 1)
  gov/p/ + id(8)                   -> encode(proposal object), see `Proposal`
  gov/iq/ + deposit_end(8) + id(8) -> b"" (inactive queue: proposals in their deposit period)
  gov/aq/ + voting_end(8) + id(8)  -> b"" (active queue: proposals in their voting period)
  gov/d/ + id(8) + depositor(20)   -> encode(int): ucom held by the gov module account
  gov/v/ + id(8) + voter(20)       -> (option byte, weight ppm as 4 bytes big-endian)*
Times are block times in ms, 8-byte big-endian, so the queues iterate in time order. Votes use
a fixed layout because a tally reads thousands of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from ...encoding import decode, encode
from ..errors import NOT_FOUND, AppError
from ..state import State

NEXT_ID = b"gov/next_id"
PROPOSAL = b"gov/p/"
INACTIVE = b"gov/iq/"
ACTIVE = b"gov/aq/"
DEPOSIT = b"gov/d/"
VOTE = b"gov/v/"

DEPOSIT_PERIOD, VOTING_PERIOD, PASSED, REJECTED, FAILED = (
    "deposit_period", "voting_period", "passed", "rejected", "failed")
STATUSES = (DEPOSIT_PERIOD, VOTING_PERIOD, PASSED, REJECTED, FAILED)
SAID = {DEPOSIT_PERIOD: "it is in its deposit period", VOTING_PERIOD: "it is in its voting period",
        PASSED: "it passed", REJECTED: "it was rejected", FAILED: "it failed"}

YES, ABSTAIN, NO, NO_WITH_VETO = 1, 2, 3, 4  # the SDK's VoteOption numbers
OPTIONS = {"yes": YES, "abstain": ABSTAIN, "no": NO, "no_with_veto": NO_WITH_VETO}
OPTION_NAMES = {v: k for k, v in OPTIONS.items()}


def b8(n: int) -> bytes:
    return n.to_bytes(8, "big")


@dataclass
class Proposal:
    id: int
    messages: list[dict[str, Any]]  # wire forms, executed in order by the gov account
    title: str
    summary: str
    metadata: str
    proposer: bytes
    status: str
    submit_time: int
    deposit_end_time: int
    total_deposit: int = 0
    voting_start_time: int = 0
    voting_end_time: int = 0
    final_tally: dict[str, int] | None = None
    failed_reason: str = ""  # the sentence of the message that failed
    failed_message: int = 0  # its position in `messages`, from 1

    def to_obj(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def proposal_key(pid: int) -> bytes:
    return PROPOSAL + b8(pid)


def get(state: State, pid: int) -> Proposal | None:
    raw = state.get(proposal_key(pid))
    return None if raw is None else Proposal(**decode(raw))


def must_get(state: State, pid: int) -> Proposal:
    p = get(state, pid)
    if p is None:
        raise AppError(NOT_FOUND, f"proposal {pid} does not exist")
    return p


def put(state: State, p: Proposal) -> None:
    state.set(proposal_key(p.id), encode(p.to_obj()))


def all_proposals(state: State) -> Iterator[Proposal]:
    for _, raw in state.items(PROPOSAL):
        yield Proposal(**decode(raw))


def next_id(state: State) -> int:
    """Take the next proposal id."""
    n = state.get_int(NEXT_ID) or 1
    state.set_int(NEXT_ID, n + 1)
    return n


def queue_key(prefix: bytes, end_time: int, pid: int) -> bytes:
    return prefix + b8(end_time) + b8(pid)


def due(state: State, prefix: bytes, now: int) -> list[int]:
    """Ids in a queue whose end time is at or before `now`, oldest first."""
    out = []
    for key, _ in state.items(prefix):
        if int.from_bytes(key[len(prefix):len(prefix) + 8], "big") > now:
            break
        out.append(int.from_bytes(key[-8:], "big"))
    return out


# ------------------------------------------------------------------ deposits

def deposit_key(pid: int, depositor: bytes) -> bytes:
    return DEPOSIT + b8(pid) + depositor


def deposits(state: State, pid: int) -> list[tuple[bytes, int]]:
    prefix = DEPOSIT + b8(pid)
    return [(k[len(prefix):], decode(v)) for k, v in state.items(prefix)]


# --------------------------------------------------------------------- votes

def vote_key(pid: int, voter: bytes) -> bytes:
    return VOTE + b8(pid) + voter


def encode_vote(options: tuple[tuple[int, int], ...]) -> bytes:
    return b"".join(bytes([o]) + w.to_bytes(4, "big") for o, w in options)


def decode_vote(raw: bytes) -> list[tuple[int, int]]:
    return [(raw[i], int.from_bytes(raw[i + 1:i + 5], "big")) for i in range(0, len(raw), 5)]


def votes(state: State, pid: int) -> Iterator[tuple[bytes, bytes]]:
    """(voter, encoded options) in voter order."""
    prefix = VOTE + b8(pid)
    n = len(prefix)
    for k, v in state.items(prefix):
        yield k[n:], v


def delete_votes(state: State, pid: int) -> None:
    for key in [k for k, _ in state.items(VOTE + b8(pid))]:
        state.delete(key)
