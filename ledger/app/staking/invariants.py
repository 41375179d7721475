"""Staking's invariants (one sentence per broken one): the bonded pool holds the tokens of the
bonded validators; the not-bonded pool holds those of the others plus the unbonding entries'
balances; a validator's delegations' shares sum to its delegator shares; the validators last
sent to consensus are exactly the bonded ones; the index of redelegations into a validator
counts them."""

from __future__ import annotations

from ...encoding import decode
from .. import address, bank
from ..state import State
from . import store
from .store import BONDED


def problems(state: State) -> list[str]:
    out = []
    vals = store.all_validators(state)
    bonded = sum(v.tokens for v in vals if v.status == BONDED)
    have = bank.balance(state, bank.module(bank.BONDED_POOL))
    if have != bonded:
        out.append(f"the bonded pool holds {have} ucom, bonded validators have {bonded} ucom")
    entries = sum(e[3] for _, raw in state.items(store.UNBONDING_ENTRIES) for e in decode(raw))
    not_bonded = sum(v.tokens for v in vals if v.status != BONDED) + entries
    have = bank.balance(state, bank.module(bank.NOT_BONDED_POOL))
    if have != not_bonded:
        out.append(f"the not-bonded pool holds {have} ucom, unbonded stake and unbonding "
                   f"entries sum to {not_bonded} ucom")
    sums: dict[bytes, int] = {}
    n = len(store.DELEGATION) + 20
    for k, _ in state.items(store.DELEGATION):
        sums[k[n:]] = sums.get(k[n:], 0) + state.get_int(k)
    for v in vals:
        if sums.get(v.operator, 0) != v.delegator_shares:
            out.append(f"validator {address.to_text(v.operator)} counts {v.delegator_shares} "
                       f"shares, its delegations hold {sums.get(v.operator, 0)}")
    into: dict[bytes, int] = {}
    n = len(store.REDELEGATION)
    for k, _ in state.items(store.REDELEGATION):
        pair = k[n:n + 20] + k[n + 40:n + 60]
        into[pair] = into.get(pair, 0) + 1
    counted = {k[len(store.RED_INTO):]: state.get_int(k) for k, _ in state.items(store.RED_INTO)}
    if into != counted:
        out.append("the counts of redelegations into validators do not match the redelegations")
    last = {k[len(store.LAST_POWER):] for k, _ in state.items(store.LAST_POWER)}
    if last != {v.operator for v in vals if v.status == BONDED}:
        out.append("the validators last sent to consensus are not the bonded ones")
    return out
