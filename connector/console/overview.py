"""The overview: who this node is, whether it is healthy, and what waits for the operator."""

from __future__ import annotations

import asyncio

from aiohttp import web

from connector.catalog.model import Access
from connector.catalog.resources import CATALOG
from connector.compute.manager import COMPUTE
from connector.compute.model import JobState
from connector.console.guard import page, render
from connector.errors import ConnectorError
from connector.ledger.service import LEDGER
from connector.negotiation.manager import NEGOTIATIONS
from connector.node import NODE
from connector.selfdescription.publisher import framework_of
from connector.transfer.manager import TRANSFERS
from connector.transfer.model import State as TransferState

routes = web.RouteTableDef()
COUNT_CAP = 500  # lists are counted up to this; beyond, the page says "500+"


def self_description_status(request: web.Request) -> str:
    try:
        built = request.config_dict[NODE].self_descriptions.get(framework_of("loire"))
    except ConnectorError as exc:
        return str(exc)
    return f"signed ({built.framework.value}), issued {built.issued:%Y-%m-%d %H:%M} UTC"


async def counts(request: web.Request) -> dict[str, str]:
    app = request.config_dict
    datasets, pending, transfers, queued, running, awaiting = await asyncio.gather(
        app[CATALOG].store.count(frozenset(Access)),
        app[NEGOTIATIONS].pending(),
        app[TRANSFERS].store.list(TransferState.STARTED, None, COUNT_CAP, 0),
        app[COMPUTE].store.list(None, JobState.QUEUED, COUNT_CAP, 0),
        app[COMPUTE].store.list(None, JobState.RUNNING, COUNT_CAP, 0),
        app[COMPUTE].store.list(None, JobState.AWAITING_RELEASE, COUNT_CAP, 0),
    )

    def shown(n: int) -> str:
        return f"{COUNT_CAP}+" if n >= COUNT_CAP else str(n)

    return {"datasets": str(datasets), "pending": shown(len(pending)), "transfers": shown(len(transfers)),
            "jobs": shown(len(queued) + len(running)), "awaiting": shown(len(awaiting))}


@routes.get("/")
@page
async def overview(request: web.Request) -> web.StreamResponse:
    node = request.config_dict[NODE]
    problem = await node.database.problem()
    return render(request, "overview.html", {
        "title": "Overview", "node": node, "config": node.config,
        "self_description": self_description_status(request),
        "health": "healthy" if problem is None else f"not ready: {problem}",
        "healthy": problem is None, "counts": await counts(request),
        "crawler": node.config.crawler.enabled, "ledger": await ledger_line(request),
    })


async def ledger_line(request: web.Request) -> str:
    service = request.config_dict.get(LEDGER)
    if service is None:
        return "not linked to a ledger"
    problem = service.health()
    if problem:
        return f"{service.chain_id} at height {service.height} ({problem})"
    try:
        peers = f", its node has {await service.ledger.peers()} peers"
    except ConnectorError:
        peers = ""
    return f"{service.chain_id} at height {service.height}{peers}"
