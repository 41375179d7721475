"""Governance (the Cosmos SDK's x/gov v1): proposals carrying messages that the gov module
account executes when they pass, deposits, (weighted) votes, and a stake-weighted tally.

The application wires: `ROUTES` (parsers into `msgs.register`, handlers into deliver), `end_block(state, ctx, source, execute)` at every block's
end, `genesis` for the "gov" section, `PARAM_MODULES` with every module whose parameters
governance may change, `queries.answer` for the RPC, and `problems` with the invariants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...abci import Event
from ..blockctx import BlockContext
from ..msgs import Msg
from ..state import State
from . import content, handlers, queries
from . import msgs as gmsgs
from .content import PARAM_MODULES, ParamModule, ParamModuleOf
from .endblock import end_block, genesis
from .invariants import problems
from .params import GovParams
from .tally import TallySource

Route = tuple[Callable[[dict[str, Any]], Msg], Callable[[Msg], None],
              Callable[[State, Msg, BlockContext], list[Event]]]

ROUTES: dict[str, Route] = {
    "gov/submit_proposal": (gmsgs.parse_submit, gmsgs.no_check, handlers.handle_submit),
    "gov/deposit": (gmsgs.parse_deposit, gmsgs.no_check, handlers.handle_deposit),
    "gov/vote": (gmsgs.parse_vote, gmsgs.no_check, handlers.handle_vote),
    "gov/vote_weighted": (gmsgs.parse_vote_weighted, gmsgs.no_check, handlers.handle_vote),
    "gov/community_pool_spend": (content.parse_pool_spend, content.check_gov,
                                 content.handle_pool_spend),
    "gov/software_upgrade": (content.parse_upgrade, content.check_gov, content.handle_upgrade),
    "gov/cancel_upgrade": (content.parse_cancel, content.check_gov, content.handle_cancel),
    "gov/update_params": (content.parse_update_params, content.check_gov,
                          content.handle_update_params),
}


__all__ = ["PARAM_MODULES", "ROUTES", "GovParams", "ParamModule", "ParamModuleOf",
           "TallySource", "end_block", "genesis", "problems", "queries"]
