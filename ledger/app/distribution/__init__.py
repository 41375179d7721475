"""Distribution (the Cosmos SDK's x/distribution with F1 rewards): at the start of each block
the fee collector's coins are burned in part, taxed for the community pool and shared among the
validators that signed the last commit by power; commissions accumulate per validator and
delegators' rewards are settled lazily (a withdrawal or any change of the delegation pays what
accrued). It replaces `fees.distribute`.

The application wires: `ROUTES`, `begin_block(state, ctx, last_commit)` after
mint's and before slashing's, `queries`, `problems`, and `DistributionParams` in governance's
PARAM_MODULES as "distribution" (load/from_obj/save in `params`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...abci import Event
from ..blockctx import BlockContext
from ..msgs import Msg
from ..state import State
from . import msgs as dmsgs
from . import params, queries
from .allocate import begin_block
from .invariants import problems
from .params import DistributionParams

Route = tuple[Callable[[dict[str, Any]], Msg], Callable[[Msg], None],
              Callable[[State, Msg, BlockContext], list[Event]]]

ROUTES: dict[str, Route] = {
    dmsgs.MsgWithdrawRewards.type: (dmsgs.parse_withdraw_rewards, dmsgs.no_check,
                                    dmsgs.handle_withdraw_rewards),
    dmsgs.MsgWithdrawCommission.type: (dmsgs.parse_withdraw_commission, dmsgs.no_check,
                                       dmsgs.handle_withdraw_commission),
    dmsgs.MsgSetWithdrawAddress.type: (dmsgs.parse_set_withdraw_address,
                                       dmsgs.check_set_withdraw_address,
                                       dmsgs.handle_set_withdraw_address),
}



def genesis(state: State, section: Any, ctx: BlockContext) -> None:
    """The "distribution" section: {"params": {...}} (everything else starts empty)."""
    from ..errors import INVALID_REQUEST, AppError

    section = section or {}
    if not isinstance(section, dict) or set(section) - {"params"}:
        raise AppError(INVALID_REQUEST, "the distribution genesis section is {\"params\": {...}}")
    DistributionParams.from_obj(section.get("params") or {}).save(state)


__all__ = ["ROUTES", "DistributionParams", "begin_block", "genesis", "params",
           "problems", "queries"]
