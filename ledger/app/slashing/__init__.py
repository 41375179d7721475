"""Slashing (the Cosmos SDK's x/slashing and x/evidence): downtime over a window of the last
commits' signatures (slash, jail for a while) and double signing (slash the stake at the
infraction, jail forever, tombstone); `slashing/unjail` to come back after downtime.

The application wires: `ROUTES`; `begin_block(state, ctx,
decided_last_commit, misbehavior)` after distribution's (so the last block's rewards are
shared before a slash); `genesis` for the "slashing" section; `queries`; `problems`; and
`SlashingParams` in governance's PARAM_MODULES."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...abci import Event
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, AppError
from ..msgs import Msg
from ..staking import store as sstore
from ..state import State
from . import params, queries
from .beginblock import begin_block
from .params import SlashingParams
from .unjail import MsgUnjail, handle_unjail, no_check, parse_unjail

Route = tuple[Callable[[dict[str, Any]], Msg], Callable[[Msg], None],
              Callable[[State, Msg, BlockContext], list[Event]]]

ROUTES: dict[str, Route] = {MsgUnjail.type: (parse_unjail, no_check, handle_unjail)}


def genesis(state: State, section: Any, ctx: BlockContext) -> None:
    """The "slashing" section: {"params": {...}}."""
    section = section or {}
    if not isinstance(section, dict) or set(section) - {"params"}:
        raise AppError(INVALID_REQUEST, "the slashing genesis section is {\"params\": {...}}")
    SlashingParams.from_obj(section.get("params") or {}).save(state)


def problems(state: State) -> list[str]:
    """A tombstoned signing info belongs to a jailed, tombstoned validator."""
    from . import store

    out = []
    for v in sstore.all_validators(state):
        info = store.get(state, v.cons_address)
        if info is not None and info.tombstoned and not (v.jailed and v.tombstoned):
            out.append(f"validator {v.moniker} is tombstoned but not jailed")
    return out


__all__ = ["ROUTES", "MsgUnjail", "SlashingParams", "begin_block", "genesis",
           "params", "problems", "queries"]
