"""Liveness, readiness and metrics on the public port."""

from __future__ import annotations

from aiohttp import web

from connector.app.keys import NODE

routes = web.RouteTableDef()


@routes.get("/health/live")
async def live(request: web.Request) -> web.Response:
    return web.json_response({"status": "live"})


@routes.get("/health/ready")
async def ready(request: web.Request) -> web.Response:
    node = request.app[NODE]
    checks = {"database": await node.database.ping()}
    ok = all(checks.values())
    return web.json_response({"status": "ready" if ok else "not-ready", "checks": checks}, status=200 if ok else 503)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[NODE].metrics.render()
    return web.Response(body=body, headers={"Content-Type": content_type})
