"""The federation's registry of members and trust anchors (see `model` for the store layout).

The application wires: `ROUTES` (parsers into `msgs.register`, handlers into deliver), `genesis` for the "registry" section, `queries.answer` for the
RPC, and `problems` with the invariants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...abci import Event
from ..blockctx import BlockContext
from ..msgs import Msg
from ..state import State
from . import handlers as h
from . import msgs as m
from . import queries
from .handlers import genesis
from .queries import problems

Route = tuple[Callable[[dict[str, Any]], Msg], Callable[[Msg], None],
              Callable[[State, Msg, BlockContext], list[Event]]]

ROUTES: dict[str, Route] = {
    "registry/apply": (m.parse_apply, m.no_check, h.handle_apply),
    "registry/update_member": (m.parse_update, m.no_check, h.handle_update),
    "registry/register_member": (m.parse_register, m.check_gov, h.handle_register),
    "registry/set_member_status": (m.parse_set_status, m.check_gov, h.handle_set_status),
    "registry/add_trust_anchor": (m.parse_add_anchor, m.check_gov, h.handle_add_anchor),
    "registry/remove_trust_anchor": (m.parse_remove_anchor, m.check_gov, h.handle_remove_anchor),
}


__all__ = ["ROUTES", "genesis", "problems", "queries"]
