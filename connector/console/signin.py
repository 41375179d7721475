"""Signing in and out: the management token is exchanged for a session cookie."""

from __future__ import annotations

import asyncio

from aiohttp import web

from connector.console.guard import SESSIONS, action, render, secure
from connector.console.sessions import COOKIE, IDLE_SECONDS

routes = web.RouteTableDef()
WRONG_TOKEN = "That is not this node's management token: check the file management.token in the node's folder."


def _next(value: object) -> str:
    """Where to go after signing in: a path of ours only (never another site)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@routes.get("/signin")
async def signin_form(request: web.Request) -> web.StreamResponse:
    return render(request, "signin.html", {"next": _next(request.query.get("next"))})


@routes.post("/signin")
async def signin(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    token, target = form.get("token"), _next(form.get("next"))
    sessions = request.config_dict[SESSIONS]
    if not isinstance(token, str) or not sessions.token_matches(token.strip()):
        await asyncio.sleep(0.25)  # slows guessing down; the token is long and random anyway
        return render(request, "signin.html", {"error": WRONG_TOKEN, "next": target}, 401)
    session = sessions.open()
    response = web.Response(status=303, headers={"Location": target})
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="Strict", path="/",
                        max_age=IDLE_SECONDS, secure=request.secure)
    secure(response)
    return response


@routes.post("/signout")
@action
async def signout(request: web.Request) -> web.StreamResponse:
    request.config_dict[SESSIONS].close(request.cookies.get(COOKIE, ""))
    response = web.Response(status=303, headers={"Location": "/signin"})
    response.del_cookie(COOKIE, path="/")
    return secure(response)
