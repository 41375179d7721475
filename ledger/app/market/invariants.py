"""The market's invariants (one sentence per broken one): for each dataset and in total,
paid == contributors + curators + extracted and extracted == burned + community + validators,
the totals are the sums of the datasets', and the market account holds exactly the bonded and
unbonding stakes (every unbonding stake queued for its return)."""

from __future__ import annotations

from typing import Any

from ...encoding import decode
from .. import bank
from ..state import State
from . import model
from .model import QUEUE, STAKES, VALUE, VALUE_PARTS


def _identities(v: dict[str, Any], what: str) -> list[str]:
    out = []
    if v["paid"] != v["contributors"] + v["curators"] + v["extracted"]:
        out.append(f"{what}: paid {v['paid']} ucom is not contributors + curators + extracted")
    if v["extracted"] != v["burned"] + v["community"] + v["validators"]:
        out.append(f"{what}: extracted {v['extracted']} ucom is not burned + community + "
                   f"validators")
    return out


def problems(state: State) -> list[str]:
    out = []
    summed = dict.fromkeys(VALUE_PARTS, 0)
    for key, raw in state.items(VALUE):
        v = decode(raw)
        what = f"dataset {key[len(VALUE):].decode(errors='replace')[:64]!r}"
        out += _identities(v, what)
        if sum(n for _, n in v["returned"]) != v["contributors"] + v["curators"]:
            out.append(f"{what}: what each account was returned does not add up")
        for k in VALUE_PARTS:
            summed[k] += v[k]
    total = model.value(state, None)
    out += _identities(total, "the federation's value")
    if {k: total[k] for k in VALUE_PARTS} != summed:
        out.append("the federation's value totals are not the sums of the datasets'")
    staked = 0
    queued = {key[len(QUEUE):] for key, _ in state.items(QUEUE)}
    for key, _ in state.items(STAKES):
        dataset_id = key[len(STAKES):].decode()
        s = model.stakes(state, dataset_id)
        staked += s.bonded() + s.unbonding_total()
        for _, n, release in s.unbonding:
            if n <= 0 or model.b8(release) + dataset_id.encode() not in queued:
                out.append(f"an unbonding stake on {dataset_id[:64]!r} is not queued")
    held = bank.balance(state, model.account())
    if held != staked:
        out.append(f"the market account holds {held} ucom, the stakes on datasets are "
                   f"{staked} ucom")
    return out
