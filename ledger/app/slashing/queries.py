"""Slashing queries: (the store key that proves the answer, the JSON-able answer)."""

from __future__ import annotations

from typing import Any

from ..state import State
from . import store
from .params import SlashingParams

Answer = tuple[bytes, dict[str, Any]]


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
