"""Negotiations, transfers and compute jobs: lists with state filters, and the operator's
decisions (agree, counter-offer, terminate; suspend, resume, complete; approve, reject), each
through its feature's service."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from aiohttp import web

from connector.compute.manager import COMPUTE
from connector.compute.model import JobState
from connector.compute.model import Role as JobRole
from connector.compute.service import summary as job_summary
from connector.console import policy
from connector.console.datasets import paging
from connector.console.guard import action, page, render, secure
from connector.errors import ConnectorError, Reason
from connector.negotiation.manager import NEGOTIATIONS
from connector.negotiation.model import Role
from connector.negotiation.model import State as NegotiationState
from connector.negotiation.service import summary as negotiation_summary
from connector.transfer.manager import TRANSFERS
from connector.transfer.model import MessageKind as TransferKind
from connector.transfer.model import State as TransferState
from connector.transfer.service import summary as transfer_summary

routes = web.RouteTableDef()
LOG_EXCERPT = 4000  # the end of a job's log, where failures are
TRANSFER_COMMANDS = {"suspend": (TransferKind.SUSPENSION, "suspended by its owner"),
                     "resume": (TransferKind.START, None), "complete": (TransferKind.COMPLETION, None),
                     "terminate": (TransferKind.TERMINATION, "terminated by its owner")}


def _choice(request: web.Request, key: str, kind: type[Enum]) -> Any:
    value = request.query.get(key, "")
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, f"{value[:40]!r} is not a {key} to filter on") from None


def _filters(request: web.Request) -> str:
    return "".join(f"&{k}={request.query[k]}" for k in ("state", "role", "pending") if request.query.get(k))


def _see(location: str) -> web.StreamResponse:
    return secure(web.Response(status=303, headers={"Location": location}))


# ---- negotiations -----------------------------------------------------------------------


@routes.get("/negotiations")
@page
async def negotiations(request: web.Request) -> web.StreamResponse:
    service = request.config_dict[NEGOTIATIONS]
    offset, limit = paging(request)
    state, role = _choice(request, "state", NegotiationState), _choice(request, "role", Role)
    pending = request.query.get("pending") == "1"
    if pending:
        found = await service.pending()
        items, total = found[offset:offset + limit], len(found)
    else:
        items = await service.store.list(state, role, limit + 1, offset)
        total = offset + len(items)
        items = items[:limit]
    waiting = {n.id for n in await service.pending()} if not pending else {n.id for n in items}
    return render(request, "negotiations.html", {
        "title": "Negotiations", "items": [negotiation_summary(n) for n in items], "waiting": waiting,
        "states": [s.value for s in NegotiationState], "roles": [r.value for r in Role],
        "state": state.value if state else "", "role": role.value if role else "", "pending": pending,
        "offset": offset, "limit": limit, "total": total, "extra": _filters(request),
    })


@routes.get("/negotiations/{id}")
@page
async def negotiation(request: web.Request) -> web.StreamResponse:
    service = request.config_dict[NEGOTIATIONS]
    found = await service.store.get(request.match_info["id"])
    if found is None:
        raise ConnectorError(Reason.NOT_FOUND, f"no negotiation {request.match_info['id']}")
    waiting = found.id in {n.id for n in await service.pending()}
    notice = {"agreed": "Done: your answer is on its way.", "offered": "Your counter-offer is on its way.",
              "terminated": "The negotiation is terminated.", "started": "The negotiation has started."}
    return render(request, "negotiation.html", {
        "title": "Negotiation", "n": negotiation_summary(found), "waiting": waiting,
        "notice": next((v for k, v in notice.items() if k in request.query), None),
    })


@routes.post("/negotiations/{id}/agree")
@action
async def agree(request: web.Request) -> web.StreamResponse:
    await request.config_dict[NEGOTIATIONS].agree(request.match_info["id"])
    return _see(f"/negotiations/{request.match_info['id']}?agreed=1")


@routes.post("/negotiations/{id}/offer")
@action
async def counter_offer(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    text = str(form.get("odrl") or "").strip()
    offer = policy.document(text) if text else None
    await request.config_dict[NEGOTIATIONS].offer(request.match_info["id"], offer)
    return _see(f"/negotiations/{request.match_info['id']}?offered=1")


@routes.post("/negotiations/{id}/terminate")
@action
async def terminate(request: web.Request) -> web.StreamResponse:
    await request.config_dict[NEGOTIATIONS].terminate(request.match_info["id"])
    return _see(f"/negotiations/{request.match_info['id']}?terminated=1")


# ---- transfers --------------------------------------------------------------------------


@routes.get("/transfers")
@page
async def transfers(request: web.Request) -> web.StreamResponse:
    offset, limit = paging(request)
    state, role = _choice(request, "state", TransferState), _choice(request, "role", Role)
    items = await request.config_dict[TRANSFERS].store.list(state, role, limit + 1, offset)
    return render(request, "transfers.html", {
        "title": "Transfers", "items": [transfer_summary(p) for p in items[:limit]],
        "states": [s.value for s in TransferState], "roles": [r.value for r in Role],
        "state": state.value if state else "", "role": role.value if role else "",
        "offset": offset, "limit": limit, "total": offset + len(items), "extra": _filters(request),
        "commands": TRANSFER_COMMANDS,
    })


@routes.post("/transfers/{id}/{command}")
@action
async def transfer_command(request: web.Request) -> web.StreamResponse:
    kind, reason = TRANSFER_COMMANDS.get(request.match_info["command"], (None, None))
    if kind is None:
        raise ConnectorError(Reason.NOT_FOUND, "a transfer can be suspended, resumed, completed or terminated")
    await request.config_dict[TRANSFERS].command(request.match_info["id"], kind, reason)
    return _see("/transfers")


# ---- jobs -------------------------------------------------------------------------------


@routes.get("/jobs")
@page
async def jobs(request: web.Request) -> web.StreamResponse:
    offset, limit = paging(request)
    state, role = _choice(request, "state", JobState), _choice(request, "role", JobRole)
    items = await request.config_dict[COMPUTE].store.list(role, state, limit + 1, offset)
    return render(request, "jobs.html", {
        "title": "Jobs", "items": [job_summary(j) for j in items[:limit]],
        "states": [s.value for s in JobState], "roles": [r.value for r in JobRole],
        "state": state.value if state else "", "role": role.value if role else "",
        "offset": offset, "limit": limit, "total": offset + len(items), "extra": _filters(request),
    })


@routes.get("/jobs/{id}")
@page
async def job(request: web.Request) -> web.StreamResponse:
    found = await request.config_dict[COMPUTE].store.get(request.match_info["id"])
    if found is None:
        raise ConnectorError(Reason.NOT_FOUND, f"no job {request.match_info['id']}")
    shown = job_summary(found)
    log = shown.get("log") or ""
    return render(request, "job.html", {
        "title": "Job", "j": shown, "log": log[-LOG_EXCERPT:], "cut": len(log) > LOG_EXCERPT,
        "claims": json.dumps(shown.get("receiptClaims"), indent=2) if shown.get("receiptClaims") else None,
        "awaiting": found.state is JobState.AWAITING_RELEASE,
    })


@routes.post("/jobs/{id}/{decision:approve|reject}")
@action
async def release(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    reason = str(form.get("reason") or "").strip()[:500] or None
    approve = request.match_info["decision"] == "approve"
    await request.config_dict[COMPUTE].release(request.match_info["id"], approve, None if approve else reason)
    return _see(f"/jobs/{request.match_info['id']}")
