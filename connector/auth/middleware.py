"""Authentication of DSP requests: every request under the DSP prefix gets `request[CALLER]`.

No Authorization header: anonymous (None) where the route allows it (`@allow_anonymous`, or a
path prefix given to `dcp_auth`), else 401. A header that does not verify is always 401, even
on an open route: a caller who tried to authenticate and failed must learn it. The answer is a
DSP error message; the token itself is never logged nor echoed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from aiohttp import web

from connector.auth.caller import CALLER
from connector.auth.resources import AUTH
from connector.auth.static_callers import StaticCallers
from connector.auth.verifier import bearer_of
from connector.errors import ConnectorError

DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
_ANONYMOUS = "__communs_anonymous__"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H")


def allow_anonymous(handler: H) -> H:
    """Mark a route handler as open to anonymous callers (the catalog shows public data)."""
    setattr(handler, _ANONYMOUS, True)
    return handler


def _error_type(path: str) -> str:
    if "/negotiations" in path:
        return "ContractNegotiationError"
    if "/transfers" in path:
        return "TransferError"
    if "/compute" in path:
        return "ComputeJobError"  # our compute-to-data extension of DSP (docs/compute.md)
    return "CatalogError"


def dsp_error(request: web.Request, status: int, reason: str) -> web.Response:
    body = {"@context": [DSP_CONTEXT], "@type": _error_type(request.path),
            "code": str(status), "reason": [reason]}
    headers = {"WWW-Authenticate": 'Bearer realm="dsp"'} if status == 401 else None
    return web.json_response(body, status=status, headers=headers)


def dcp_auth(prefix: str, anonymous: Iterable[str] = (), static: StaticCallers | None = None) -> Callable:
    """The middleware for DSP paths under `prefix`; `anonymous`: path prefixes open to all;
    `static`: conformance-only callers known by a fixed token (static_callers.py), else none."""
    open_paths = tuple(anonymous)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(prefix):
            return await handler(request)
        authorization = request.headers.get("Authorization")
        if not authorization:
            route_handler = request.match_info.handler
            if getattr(route_handler, _ANONYMOUS, False) or request.path.startswith(open_paths):
                request[CALLER] = None
                return await handler(request)
            return dsp_error(request, 401, "this endpoint needs an Authorization header "
                                           "with a self-issued ID token")
        known = static.caller(bearer_of(authorization)) if static else None
        if known is not None:
            request[CALLER] = known
            return await handler(request)
        try:
            request[CALLER] = await request.config_dict[AUTH].verifier.authenticate(authorization)
        except ConnectorError as exc:
            return dsp_error(request, exc.status, str(exc))
        return await handler(request)

    return middleware
