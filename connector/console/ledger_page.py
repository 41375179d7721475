"""The Ledger page: status, blocks, validators, proposals with a live tally and vote buttons,
members and trust anchors, this organization's balance and stakes, and the value report."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup

from connector.console import chain
from connector.console.guard import action, page, render, secure
from connector.errors import ConnectorError, Reason
from connector.ledger.service import LEDGER, LedgerService

routes = web.RouteTableDef()
NO_LEDGER = ("This node is not linked to a ledger: set rpc_url and genesis under [ledger] in "
             "communs.toml (communs federation up does it for its organizations).")
VOTES = (("yes", "Yes"), ("no", "No"), ("abstain", "Abstain"), ("veto", "No with veto"))


def _service(request: web.Request) -> LedgerService:
    service = request.config_dict.get(LEDGER)
    if service is None:
        raise ConnectorError(Reason.NOT_FOUND, NO_LEDGER)
    return service


def _proposal_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, "a proposal is known by its number") from None


@routes.get("/ledger")
@page
async def ledger(request: web.Request) -> web.StreamResponse:
    shown = await chain.view(_service(request))
    charts = {k: Markup(v) for k, v in shown.pop("charts", {}).items()}  # built by charts.py, escaped there
    voted = request.query.get("voted")
    return render(request, "ledger.html", {"title": "Ledger", **shown, "charts": charts, "votes": VOTES,
                                           "notice": f"Your vote on proposal {voted} is recorded." if voted else None})


@routes.get("/ledger/proposals/{id}/tally")
@page
async def tally(request: web.Request) -> web.StreamResponse:
    """For htmx, every few seconds: the proposal's tally as it stands."""
    found = await _service(request).proposal(_proposal_id(request))
    return render(request, "tally.html", {"p": found})


@routes.post("/ledger/proposals/{id}/vote")
@action
async def vote(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    proposal_id = _proposal_id(request)
    await _service(request).vote(proposal_id, str(form.get("option") or ""))
    return secure(web.Response(status=303, headers={"Location": f"/ledger?voted={proposal_id}#proposals"}))
