"""ABCI Query paths, each answering JSON (or, for /store, the raw value), each with an
optional proof of the store key behind the answer against the app hash of `height`+1:

  /store          data = raw store key        -> the raw value (empty if absent)
  /bank/balance   data = address (com1... text or 20 bytes) -> {"address", "balance", "denom"}
  /bank/supply                                -> {"genesis", "minted", "burned", "total", "denom"}
  /auth/account   data = address              -> {"address", "sequence", "balance", "pub_key"}
  /params                                     -> the parameters
  /staking/... /slashing/... /distribution/... /mint/... /gov/... /registry/... /market/...
                                              -> each module's answers (see its queries)

A lookup's proof proves the one key it answers from; a list cannot be proven (its key is the
prefix of its entries, each provable on its own)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..abci import ResponseQuery
from . import (
    address,
    auth,
    bank,
    distribution,
    gov,
    market,
    mint,
    params,
    registry,
    slashing,
    staking,
)
from .errors import CODESPACE, UNKNOWN_REQUEST, AppError
from .state import State
from .storeview import VersionedStore, View

PATHS = ("/store", "/bank/balance", "/bank/supply", "/auth/account", "/params")
MODULES: dict[str, Callable[[State, str, bytes], tuple[bytes, Any]]] = {
    "staking": staking.queries.answer,
    "slashing": slashing.queries.answer,
    "distribution": distribution.queries.answer,
    "mint": mint.answer,
    "gov": lambda state, path, data: gov.queries.answer(state, path, data,
                                                       staking.tally_source(state)),
    "registry": registry.queries.answer,
    "market": market.queries.answer,
}


def _json(v: Any) -> bytes:
    return json.dumps(v, sort_keys=True, separators=(",", ":")).encode()


def answer(store: VersionedStore, version: int, path: str, data: bytes,
           prove: bool, proof_type: str) -> ResponseQuery:
    state = State(View(store, version))
    try:
        key, value = _route(state, path, data)
    except AppError as e:
        return ResponseQuery(e.code, b"", str(e), version, codespace=CODESPACE)
    proof = b""
    if prove:
        _, proof = store.prove(key, version)
    return ResponseQuery(0, value, "", version, key, proof, proof_type if prove else "")


def _route(state: State, path: str, data: bytes) -> tuple[bytes, bytes]:
    """(the store key proven, the answer)."""
    if path == "/store":
        return data, state.get(data) or b""
    if path == "/bank/balance":
        addr = address.parse(data)
        return bank.BALANCE + addr, _json({"address": address.to_text(addr), "denom": "ucom",
                                           "balance": bank.balance(state, addr)})
    if path == "/bank/supply":
        parts = bank.supply_parts(state)
        return bank.SUPPLY, _json({**parts, "total": bank.supply(state), "denom": "ucom"})
    if path == "/auth/account":
        addr = address.parse(data)
        acc = auth.account(state, addr)
        return auth.ACCOUNT + addr, _json({
            "address": address.to_text(addr), "sequence": auth.sequence(state, addr),
            "balance": bank.balance(state, addr),
            "pub_key": None if acc is None else acc.pub_key.hex()})
    if path == "/params":
        return params.KEY, _json(params.load(state).to_obj())
    module = MODULES.get(path.split("/")[1] if path.count("/") >= 2 else "")
    if module is not None:
        key, answer = module(state, path, data)
        return key, _json(answer)
    raise AppError(UNKNOWN_REQUEST, f"unknown query path {path[:64]!r} (known: "
                                    f"{', '.join(PATHS)}, and /<module>/... for "
                                    f"{', '.join(MODULES)})")
