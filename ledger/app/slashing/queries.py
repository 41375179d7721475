"""Slashing queries: (the store key that proves the answer, the JSON-able answer).

  /slashing/signing_info  data = a validator's operator (com1...) or its consensus address
                          (40 hex digits)
  /slashing/params"""

from __future__ import annotations

from typing import Any

from .. import address
from ..errors import INVALID_ADDRESS, UNKNOWN_REQUEST, AppError
from ..staking import store as sstore
from ..state import State
from . import store
from .params import SlashingParams

Answer = tuple[bytes, dict[str, Any]]
PATHS = ("/slashing/signing_info", "/slashing/params")


def signing_info(state: State, cons: bytes) -> Answer:
    info = store.get(state, cons)
    obj: dict[str, Any] = {"address": cons.hex().upper(), "found": info is not None}
    if info is not None:
        obj.update(start_height=info.start_height, index_offset=info.index_offset,
                   missed_blocks=info.missed_count, jailed_until=info.jailed_until,
                   tombstoned=info.tombstoned)
    return store.INFO + cons, obj


def params(state: State) -> Answer:
    return SlashingParams.key(), SlashingParams.load(state).to_obj()


def _consensus_address(state: State, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace").strip()
    if len(text) == 40:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        operator = address.parse(data)
    except AppError as e:
        raise AppError(INVALID_ADDRESS, f"{text[:64]!r} is neither an operator address "
                                        f"(com1...) nor a consensus address (40 hex digits)"
                       ) from e
    return sstore.must_validator(state, operator).cons_address


def answer(state: State, path: str, data: bytes) -> Answer:
    if path == "/slashing/signing_info":
        return signing_info(state, _consensus_address(state, data))
    if path == "/slashing/params":
        return params(state)
    raise AppError(UNKNOWN_REQUEST, f"unknown query path {path[:64]!r} "
                                    f"(known: {', '.join(PATHS)})")
