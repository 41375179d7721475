"""Liveness, readiness and metrics on the public port."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from connector.ledger.service import LEDGER
from connector.node import NODE
from connector.storage.database import Database

log = logging.getLogger("communs.health")
routes = web.RouteTableDef()


class Readiness:
    """Whether the node can serve, checked for real and kept `ttl` seconds: probes come often,
    and the check opens the database file."""

    def __init__(self, database: Database, ttl: float = 1.0) -> None:
        self.database = database
        self.ttl = ttl
        self._lock = asyncio.Lock()  # concurrent probes share one check
        self._checked_at = float("-inf")
        self._problem: str | None = None

    async def problem(self) -> str | None:
        async with self._lock:
            if time.monotonic() - self._checked_at >= self.ttl:
                problem = await self.database.problem()
                if problem is not None and problem != self._problem:
                    log.warning("not ready: %s", problem)
                self._problem, self._checked_at = problem, time.monotonic()
            return self._problem


READINESS = web.AppKey("readiness", Readiness)


@routes.get("/health/live")
async def live(request: web.Request) -> web.Response:
    return web.json_response({"status": "live"})


@routes.get("/health/ready")
async def ready(request: web.Request) -> web.Response:
    problem = await request.app[READINESS].problem()
    checks = {"database": problem is None}
    ledger = request.app.get(LEDGER)
    if ledger is not None:  # the node decides membership and payments from it
        ledger_problem = ledger.health()
        checks["ledger"] = ledger_problem is None
        problem = problem or ledger_problem
    body: dict[str, object] = {"status": "ready" if problem is None else "not-ready",
                               "checks": checks}
    if problem is not None:
        body["reason"] = problem
    return web.json_response(body, status=200 if problem is None else 503)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[NODE].metrics.render()
    return web.Response(body=body, headers={"Content-Type": content_type})
