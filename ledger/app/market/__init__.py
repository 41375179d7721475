"""The data market: dataset listings with their contributors, curators' stakes, payments for
each use split on the ledger (contributors, curators, and the extracted part: burned, community
pool, validators), anchors of agreements and compute receipts, and governance's slash.

The application wires: `ROUTES` (parsers into `msgs.register`, handlers into deliver),
`end_block` (unbonding stakes paid back), `genesis` for the "market" section, `params` in
governance's PARAM_MODULES as "market", `queries.answer` for the RPC, and `problems` with the
invariants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...abci import Event
from ..blockctx import BlockContext
from ..errors import INVALID_REQUEST, AppError
from ..msgs import Msg
from ..state import State
from . import listings, params, pay, queries, stakes
from . import msgs as m
from .invariants import problems
from .params import MarketParams
from .stakes import end_block

Route = tuple[Callable[[dict[str, Any]], Msg], Callable[[Msg], None],
              Callable[[State, Msg, BlockContext], list[Event]]]

ROUTES: dict[str, Route] = {
    m.MsgList.type: (m.parse_list, m.no_check, listings.handle_list),
    m.MsgUpdateListing.type: (m.parse_update, m.no_check, listings.handle_update),
    m.MsgDelist.type: (m.parse_delist, m.no_check, listings.handle_delist),
    m.MsgStake.type: (m.parse_stake, m.no_check, stakes.handle_stake),
    m.MsgUnstake.type: (m.parse_unstake, m.no_check, stakes.handle_unstake),
    m.MsgPay.type: (m.parse_pay, m.no_check, pay.handle_pay),
    m.MsgAnchor.type: (m.parse_anchor, m.no_check, listings.handle_anchor),
    m.MsgSlash.type: (m.parse_slash, m.check_gov, stakes.handle_slash),
}


def genesis(state: State, section: Any, ctx: BlockContext) -> None:
    """The "market" section: {"params": {...}} (listings and stakes start empty)."""
    section = section or {}
    if not isinstance(section, dict) or set(section) - {"params"}:
        raise AppError(INVALID_REQUEST, "the market genesis section is {\"params\": {...}}")
    MarketParams.from_obj(section.get("params") or {}).save(state)


__all__ = ["ROUTES", "MarketParams", "end_block", "genesis", "params", "problems", "queries"]
