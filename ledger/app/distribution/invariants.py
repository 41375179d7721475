"""Distribution's invariants (one sentence per broken one): the distribution account holds
exactly what validators are owed (their outstanding rewards, commission included); no
validator's commission exceeds its outstanding; what its delegations would be paid now, plus
its commission, never exceeds its outstanding (rewards paid never exceed what was collected);
every delegation starts at a period whose ratio is still kept."""

from __future__ import annotations

from .. import address, bank
from ..staking import store as sstore
from ..state import State
from . import f1, store


def problems(state: State) -> list[str]:
    out = []
    owed = 0
    n = len(store.OUTSTANDING)
    for k, _ in state.items(store.OUTSTANDING):
        amount = state.get_int(k)
        if amount < 0:
            out.append(f"validator {address.to_text(k[n:])} has negative outstanding rewards")
        owed += amount
    have = bank.balance(state, bank.module(bank.DISTRIBUTION))
    if have != owed:
        out.append(f"the distribution account holds {have} ucom, validators are owed {owed} ucom")
    for v in sstore.all_validators(state):
        op = v.operator
        outstanding = state.get_int(store.OUTSTANDING + op)
        commission = state.get_int(store.COMMISSION + op)
        pending = sum(f1.pending_rewards(state, d, op) for d in sstore.delegators_of(state, op))
        if commission + pending > outstanding:
            out.append(f"validator {address.to_text(op)} owes {commission} ucom of commission "
                       f"and {pending} ucom of rewards but has {outstanding} ucom outstanding")
    n = len(store.STARTING)
    for k, _ in state.items(store.STARTING):
        info = store.starting(state, k[n:n + 20], k[n + 20:])
        assert info is not None
        if state.get(store.HISTORICAL + k[n + 20:] + store.b8(info[0])) is None:
            out.append(f"the delegation of {address.to_text(k[n:n + 20])} to "
                       f"{address.to_text(k[n + 20:])} starts at a pruned period")
    return out
