"""Governance queries: pure functions over a state, each returning (the store key that proves
the answer, the JSON-able answer). For a list the key is the prefix of its entries (a list is
proven entry by entry: proposal_key(id), deposit_key(id, depositor), vote_key(id, voter)).
A current tally is computed from votes and stake: its key proves the proposal's status only.

`answer(state, path, data, source)` serves the RPC paths:
  /gov/proposals  data = "" or a status      /gov/proposal  data = id
  /gov/votes      data = id                  /gov/vote      data = "id/com1..."
  /gov/deposits   data = id                  /gov/tally     data = id
  /gov/params                                /gov/upgrade   (the pending plan or null)"""

from __future__ import annotations

from typing import Any

from .. import address, wire
from ..errors import INVALID_REQUEST, NOT_FOUND, UNKNOWN_REQUEST, AppError
from ..state import State
from . import content, store
from . import params as gparams
from .handlers import option_text
from .store import OPTION_NAMES, STATUSES, VOTING_PERIOD, b8
from .tally import TallySource, count

Answer = tuple[bytes, dict[str, Any]]
PATHS = ("/gov/proposals", "/gov/proposal", "/gov/votes", "/gov/vote", "/gov/deposits",
         "/gov/tally", "/gov/params", "/gov/upgrade")


def proposal_obj(p: store.Proposal) -> dict[str, Any]:
    return wire.jsonable(p.to_obj())  # type: ignore[no-any-return]


def proposals(state: State, status: str | None = None) -> Answer:
    if status is not None and status not in STATUSES:
        raise AppError(INVALID_REQUEST, f"unknown proposal status {status[:32]!r} "
                                        f"(known: {', '.join(STATUSES)})")
    return store.PROPOSAL, {"proposals": [proposal_obj(p) for p in store.all_proposals(state)
                                          if status is None or p.status == status]}


def proposal(state: State, pid: int) -> Answer:
    return store.proposal_key(pid), proposal_obj(store.must_get(state, pid))


def _vote_obj(voter: bytes, raw: bytes) -> dict[str, Any]:
    options = store.decode_vote(raw)
    return {"voter": address.to_text(voter), "option": option_text(options),
            "options": [{"option": OPTION_NAMES[o], "weight": w} for o, w in options]}


def votes(state: State, pid: int) -> Answer:
    store.must_get(state, pid)
    return store.VOTE + b8(pid), {"proposal_id": pid, "votes": [
        _vote_obj(v, raw) for v, raw in store.votes(state, pid)]}


def vote(state: State, pid: int, voter: bytes) -> Answer:
    key = store.vote_key(pid, voter)
    raw = state.get(key)
    if raw is None:
        raise AppError(NOT_FOUND, f"{address.to_text(voter)} has not voted on proposal {pid}")
    return key, {"proposal_id": pid, **_vote_obj(voter, raw)}


def deposits(state: State, pid: int) -> Answer:
    store.must_get(state, pid)
    entries = store.deposits(state, pid)
    return store.DEPOSIT + b8(pid), {
        "proposal_id": pid, "total": sum(n for _, n in entries),
        "deposits": [{"depositor": address.to_text(d), "amount": n} for d, n in entries]}


def tally(state: State, pid: int, source: TallySource) -> Answer:
    """The running count of a proposal in its voting period; the final one after it."""
    p = store.must_get(state, pid)
    if p.status == VOTING_PERIOD:
        result = count(state, pid, source).to_obj()
    elif p.final_tally is not None:
        result = dict(p.final_tally)
    else:
        result = {"yes": 0, "abstain": 0, "no": 0, "no_with_veto": 0, "total_bonded": 0}
    return store.proposal_key(pid), {"proposal_id": pid, "status": p.status, **result}


def params(state: State) -> Answer:
    return gparams.KEY, gparams.load(state).to_obj()


def upgrade(state: State) -> Answer:
    plan = content.pending_upgrade(state)
    return content.UPGRADE, {"plan": plan}


def _id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) == 0:
        raise AppError(INVALID_REQUEST, f"{text[:32]!r} is not a proposal id")
    return int(text)


def answer(state: State, path: str, data: bytes, source: TallySource) -> Answer:
    arg = data.decode("utf-8", "replace").strip()
    if path == "/gov/proposals":
        return proposals(state, arg or None)
    if path == "/gov/proposal":
        return proposal(state, _id(arg))
    if path == "/gov/votes":
        return votes(state, _id(arg))
    if path == "/gov/vote":
        pid, _, voter = arg.partition("/")
        return vote(state, _id(pid), address.parse(voter))
    if path == "/gov/deposits":
        return deposits(state, _id(arg))
    if path == "/gov/tally":
        return tally(state, _id(arg), source)
    if path == "/gov/params":
        return params(state)
    if path == "/gov/upgrade":
        return upgrade(state)
    raise AppError(UNKNOWN_REQUEST, f"unknown query path {path[:64]!r} "
                                    f"(known: {', '.join(PATHS)})")
