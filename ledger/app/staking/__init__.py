"""Staking (the Cosmos SDK's x/staking): validators with a self-bond and a commission,
delegations as shares of a validator's tokens, undelegation through an unbonding period,
instant redelegation (slashable until it matures), and the bonded set sent to consensus as
validator updates at each end of block.

The application wires: `ROUTES`; `genesis(state, section, ctx)` after the
balances (its updates answer InitChain); `end_block(state, ctx)` at every block's end, after
governance's (its updates go into FinalizeBlock's answer); `tally_source(state)` for
governance; `queries`; `problems`; and `StakingParams` in governance's PARAM_MODULES."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...abci import Event
from ..blockctx import BlockContext
from ..msgs import Msg
from ..state import State
from . import handlers, params, queries
from . import msgs as smsgs
from .endblock import end_block
from .genesis import genesis
from .invariants import problems
from .params import StakingParams
from .tally import StakingTally, tally_source

Route = tuple[Callable[[dict[str, Any]], Msg], Callable[[Msg], None],
              Callable[[State, Msg, BlockContext], list[Event]]]

ROUTES: dict[str, Route] = {
    smsgs.MsgCreateValidator.type: (smsgs.parse_create, smsgs.check_create,
                                    handlers.handle_create),
    smsgs.MsgEditValidator.type: (smsgs.parse_edit, smsgs.check_edit, handlers.handle_edit),
    smsgs.MsgDelegate.type: (smsgs.parse_delegate, smsgs.no_check, handlers.handle_delegate),
    smsgs.MsgUndelegate.type: (smsgs.parse_undelegate, smsgs.no_check,
                               handlers.handle_undelegate),
    smsgs.MsgRedelegate.type: (smsgs.parse_redelegate, smsgs.check_redelegate,
                               handlers.handle_redelegate),
    smsgs.MsgCancelUnbonding.type: (smsgs.parse_cancel_unbonding, smsgs.no_check,
                                    handlers.handle_cancel_unbonding),
}


__all__ = ["ROUTES", "StakingParams", "StakingTally", "end_block", "genesis",
           "params", "problems", "queries", "tally_source"]
