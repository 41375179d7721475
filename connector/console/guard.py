"""Who may use a console page, and how its answers are dressed.

`page` handlers need a live session; `action` handlers (every POST) need a live session and
its CSRF token. Refusals are a plain sentence with 401 (no or expired session: the sign-in
form) or 403 (no or wrong CSRF token). A ConnectorError raised by a service becomes the page's
error banner with the error's status, so a bad input reads as a sentence, not as JSON."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from connector.console.sessions import COOKIE, Session, Sessions, csrf_matches
from connector.errors import ConnectorError

SESSIONS = web.AppKey("console-sessions", Sessions)
SESSION = web.RequestKey("console-session", Session)
CSRF_FIELD, CSRF_HEADER = "csrf", "X-CSRF-Token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SIGNED_OUT = "You are not signed in, or your session has expired: sign in with the management token."
NO_CSRF = ("This request lacks the form's security token (CSRF) or carries a wrong one: "
           "reload the page and try again.")
# scripts only from our own files (no inline script, no eval); styles from our stylesheet
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def secure(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.StreamResponse:
    session = request.get(SESSION)
    base = {"csrf": session.csrf if session else "", "path": request.path, "fragment": is_fragment(request)}
    response = aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)
    return secure(response)


def is_fragment(request: web.Request) -> bool:
    """htmx asks for a part of a page (it says so with HX-Request), or a script for text."""
    return request.headers.get("HX-Request") == "true" or request.headers.get("Accept") == "text/plain"


def sentence(request: web.Request, status: int, text: str) -> web.StreamResponse:
    """A refusal or failure as one sentence: a small page, or a fragment for htmx."""
    if is_fragment(request):
        return secure(web.Response(status=status, text=text, content_type="text/plain"))
    return render(request, "message.html", {"message": text}, status)


def signed_out(request: web.Request) -> web.StreamResponse:
    if is_fragment(request) or request.method != "GET":
        return sentence(request, 401, SIGNED_OUT)
    return render(request, "signin.html", {"error": SIGNED_OUT, "next": request.path_qs}, 401)


def _session(request: web.Request) -> Session | None:
    return request.config_dict[SESSIONS].get(request.cookies.get(COOKIE))


def page(handler: Handler) -> Handler:
    """A page: a signed-in session is needed."""
    return _guarded(handler, csrf=False)


def action(handler: Handler) -> Handler:
    """A state-changing request: the session's CSRF token must come with it (the header, or a
    form field for plain forms; a multipart upload must use the header, read before its body)."""
    return _guarded(handler, csrf=True)


def _guarded(handler: Handler, *, csrf: bool) -> Handler:
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        session = _session(request)
        if session is None:
            return signed_out(request)
        if csrf and not csrf_matches(session, await _csrf_given(request)):
            return sentence(request, 403, NO_CSRF)
        request[SESSION] = session
        try:
            return await handler(request)
        except ConnectorError as exc:
            return sentence(request, exc.status, _capital(str(exc)))

    return wrapper


async def _csrf_given(request: web.Request) -> str | None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type == "application/x-www-form-urlencoded":
        value = (await request.post()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given


def _capital(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
