"""Staking queries: pure functions over a state, each returning (the store key that proves the
answer, the JSON-able answer). A list is proven entry by entry under the prefix returned."""

from __future__ import annotations

from typing import Any

from .. import address, bank
from ..errors import INVALID_REQUEST, UNKNOWN_REQUEST, AppError
from ..state import State
from . import params as sparams
from . import store
from .store import BONDED, Validator

Answer = tuple[bytes, dict[str, Any]]


def validator_obj(v: Validator) -> dict[str, Any]:
    return {"operator": address.to_text(v.operator), "pub_key": v.pub_key.hex(),
            "consensus_address": v.cons_address.hex().upper(), "tokens": v.tokens,
            "delegator_shares": str(v.delegator_shares), "power": v.power,
            "commission_ppm": v.commission_ppm, "max_commission_ppm": v.max_commission_ppm,
            "max_change_ppm": v.max_change_ppm, "moniker": v.moniker, "status": v.status,
            "jailed": v.jailed, "tombstoned": v.tombstoned,
            "unbonding_time": v.unbonding_time}


def validators(state: State, status: str | None = None) -> Answer:
    return store.VALIDATOR, {"validators": [validator_obj(v) for v in store.all_validators(state)
                                            if status is None or v.status == status]}


def validator(state: State, operator: bytes) -> Answer:
    return store.VALIDATOR + operator, validator_obj(store.must_validator(state, operator))


def delegations(state: State, delegator: bytes) -> Answer:
    out = []
    for op, shares in store.delegations_of(state, delegator):
        v = store.must_validator(state, op)
        out.append({"validator": address.to_text(op), "shares": str(shares),
                    "balance": v.tokens_of(shares)})
    return store.DELEGATION + delegator, {"delegator": address.to_text(delegator),
                                          "delegations": out}


def _entries(raw_entries: list[list[int]], last: str) -> list[dict[str, Any]]:
    return [{"creation_height": e[0], "completion_time": e[1], "initial_balance": e[2],
             last: e[3] if last == "balance" else str(e[3])} for e in raw_entries]


def unbonding(state: State, delegator: bytes) -> Answer:
    out = []
    n = len(store.UNBONDING_ENTRIES) + 20
    for k, _ in state.items(store.UNBONDING_ENTRIES + delegator):
        out.append({"validator": address.to_text(k[n:]),
                    "entries": _entries(store.entries(state, k), "balance")})
    return store.UNBONDING_ENTRIES + delegator, {"delegator": address.to_text(delegator),
                                                 "unbonding": out}


def redelegations(state: State, delegator: bytes) -> Answer:
    out = []
    n = len(store.REDELEGATION) + 20
    for k, _ in state.items(store.REDELEGATION + delegator):
        out.append({"src": address.to_text(k[n:n + 20]), "dst": address.to_text(k[n + 20:]),
                    "entries": _entries(store.entries(state, k), "shares_dst")})
    return store.REDELEGATION + delegator, {"delegator": address.to_text(delegator),
                                            "redelegations": out}


def pool(state: State) -> Answer:
    bonded = bank.balance(state, bank.module(bank.BONDED_POOL))
    return bank.BALANCE + bank.module(bank.BONDED_POOL), {
        "bonded": bonded, "not_bonded": bank.balance(state, bank.module(bank.NOT_BONDED_POOL)),
        "bonded_validators": sum(1 for v in store.all_validators(state) if v.status == BONDED)}


def params(state: State) -> Answer:
    return sparams.StakingParams.key(), sparams.load(state).to_obj()


PATHS = ("/staking/validators", "/staking/validator", "/staking/delegations",
         "/staking/unbonding", "/staking/redelegations", "/staking/pool", "/staking/params")
STATUSES = ("bonded", "unbonding", "unbonded")


def answer(state: State, path: str, data: bytes) -> Answer:
    """The RPC paths: data is an address (com1... or 20 bytes) where one is needed, a status
    (or nothing) for /staking/validators."""
    arg = data.decode("utf-8", "replace").strip() if len(data) != 20 else ""
    if path == "/staking/validators":
        if arg and arg not in STATUSES:
            raise AppError(INVALID_REQUEST, f"unknown validator status {arg[:32]!r} "
                                            f"(known: {', '.join(STATUSES)})")
        return validators(state, arg or None)
    if path == "/staking/pool":
        return pool(state)
    if path == "/staking/params":
        return params(state)
    by_address = {"/staking/validator": validator, "/staking/delegations": delegations,
                  "/staking/unbonding": unbonding, "/staking/redelegations": redelegations}
    if path in by_address:
        return by_address[path](state, address.parse(data))
    raise AppError(UNKNOWN_REQUEST, f"unknown query path {path[:64]!r} "
                                    f"(known: {', '.join(PATHS)})")
