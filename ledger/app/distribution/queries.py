"""Distribution queries: pure functions over a state, each returning (the store key that
proves the answer, the JSON-able answer). Pending rewards are computed, not stored: their key
proves the delegation's starting point, from which anyone holding the validator's records
(historical ratios, current period) recomputes them."""

from __future__ import annotations

from typing import Any

from .. import address, bank
from ..errors import UNKNOWN_REQUEST, AppError
from ..staking import store as sstore
from ..state import State
from . import f1, store
from . import params as dparams

Answer = tuple[bytes, dict[str, Any]]


def rewards(state: State, delegator: bytes) -> Answer:
    """What each of the delegator's delegations would pay if withdrawn now."""
    out = []
    for op, _ in sstore.delegations_of(state, delegator):
        out.append({"validator": address.to_text(op),
                    "reward": f1.pending_rewards(state, delegator, op)})
    return store.STARTING + delegator, {"delegator": address.to_text(delegator),
                                        "rewards": out,
                                        "total": sum(r["reward"] for r in out)}


def commission(state: State, operator: bytes) -> Answer:
    return store.COMMISSION + operator, {"validator": address.to_text(operator),
                                         "commission": state.get_int(store.COMMISSION + operator)}


def outstanding(state: State, operator: bytes) -> Answer:
    return store.OUTSTANDING + operator, {
        "validator": address.to_text(operator),
        "outstanding": state.get_int(store.OUTSTANDING + operator)}


def community_pool(state: State) -> Answer:
    pool = bank.module(bank.COMMUNITY_POOL)
    return bank.BALANCE + pool, {"pool": bank.balance(state, pool)}


def withdraw_address(state: State, delegator: bytes) -> Answer:
    return store.WITHDRAW_ADDR + delegator, {
        "delegator": address.to_text(delegator),
        "withdraw_address": address.to_text(store.withdraw_address(state, delegator))}


def params(state: State) -> Answer:
    return dparams.DistributionParams.key(), dparams.load(state).to_obj()


PATHS = ("/distribution/rewards", "/distribution/commission", "/distribution/outstanding",
         "/distribution/community_pool", "/distribution/withdraw_address",
         "/distribution/params")


def answer(state: State, path: str, data: bytes) -> Answer:
    """The RPC paths: data is an address (com1... or 20 bytes) where one is needed."""
    if path == "/distribution/community_pool":
        return community_pool(state)
    if path == "/distribution/params":
        return params(state)
    by_address = {"/distribution/rewards": rewards, "/distribution/commission": commission,
                  "/distribution/outstanding": outstanding,
                  "/distribution/withdraw_address": withdraw_address}
    if path in by_address:
        return by_address[path](state, address.parse(data))
    raise AppError(UNKNOWN_REQUEST, f"unknown query path {path[:64]!r} "
                                    f"(known: {', '.join(PATHS)})")
