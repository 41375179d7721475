"""Governance's invariants: the gov module account holds exactly the deposits of the proposals
still in their deposit or voting period, each such proposal's total is the sum of its deposits,
and each sits in the queue its status names (one sentence per broken invariant)."""

from __future__ import annotations

from .. import bank
from ..state import State
from . import store
from .store import ACTIVE, DEPOSIT_PERIOD, INACTIVE, VOTING_PERIOD


def problems(state: State) -> list[str]:
    out = []
    held: dict[int, int] = {}
    for key, _ in state.items(store.DEPOSIT):
        pid = int.from_bytes(key[len(store.DEPOSIT):len(store.DEPOSIT) + 8], "big")
        held[pid] = held.get(pid, 0) + state.get_int(key)
    total = sum(held.values())
    have = bank.balance(state, bank.module(bank.GOV))
    if have != total:
        out.append(f"the gov module account holds {have} ucom, the deposits sum to {total} ucom")
    live = set()
    for p in store.all_proposals(state):
        if p.status not in (DEPOSIT_PERIOD, VOTING_PERIOD):
            continue
        live.add(p.id)
        if held.get(p.id, 0) != p.total_deposit:
            out.append(f"proposal {p.id} counts {p.total_deposit} ucom of deposits, "
                       f"holds {held.get(p.id, 0)} ucom")
        prefix, end = ((INACTIVE, p.deposit_end_time) if p.status == DEPOSIT_PERIOD
                       else (ACTIVE, p.voting_end_time))
        if state.get(store.queue_key(prefix, end, p.id)) is None:
            out.append(f"proposal {p.id} ({p.status}) is missing from its queue")
    for pid in sorted(set(held) - live):
        out.append(f"proposal {pid} holds deposits but takes none")
    for prefix in (INACTIVE, ACTIVE):
        for key, _ in state.items(prefix):
            pid = int.from_bytes(key[-8:], "big")
            if pid not in live:
                out.append(f"proposal {pid} is queued but not in its deposit or voting period")
    return out
