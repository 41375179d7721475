"""The DSP auth middleware's routing decisions that need no verifier (no Authorization header)."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from connector.auth.caller import caller_of
from connector.auth.middleware import allow_anonymous, dcp_auth
from tests.nodes import free_port


async def _who(request: web.Request) -> web.Response:
    caller = caller_of(request)
    return web.json_response({"did": caller.did if caller else None})


async def test_open_paths_are_anonymous_and_others_need_a_token():
    routes = web.RouteTableDef()
    routes.get("/dsp/catalog/datasets/1")(_who)
    routes.get("/dsp/transfers/1")(_who)
    routes.get("/dsp/negotiations/1")(allow_anonymous(_who_too))
    routes.get("/health")(_who)
    app = web.Application(middlewares=[dcp_auth("/dsp", anonymous=("/dsp/catalog/",))])
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/dsp/catalog/datasets/1") as response:
                assert response.status == 200 and await response.json() == {"did": None}
            async with http.get("/dsp/negotiations/1") as response:  # declared by decorator
                assert response.status == 200 and await response.json() == {"did": None}
            async with http.get("/dsp/transfers/1") as response:
                assert response.status == 401
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                body = await response.json()
                assert body["@type"] == "TransferError" and body["code"] == "401"
            async with http.get("/health") as response:  # outside the prefix: untouched
                assert response.status == 200
    finally:
        await runner.cleanup()


async def _who_too(request: web.Request) -> web.Response:
    return await _who(request)
