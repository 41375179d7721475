"""Middlewares shared by the public and the management apps.

Request ids, access logs and metrics, and the one place where domain errors become HTTP
answers (RFC 9457 problem+json). Authorization headers are never logged.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from connector.app.logs import request_id
from connector.app.metrics import Metrics
from connector.errors import ConnectorError, Reason
from vocab.errors import VocabError

log = logging.getLogger("communs.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def problem(status: int, title: str, detail: str, request: web.Request, kind: str) -> web.Response:
    body = {
        "type": f"urn:communs:problem:{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if rid := request_id.get():
        body["requestId"] = rid
    return web.json_response(body, status=status, content_type="application/problem+json")


def observe(app_name: str, metrics: Metrics) -> Callable:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        incoming = request.headers.get("X-Request-Id", "")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            response.headers["X-Request-Id"] = rid
            return response
        except web.HTTPException as exc:
            status = exc.status
            exc.headers["X-Request-Id"] = rid
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = request.match_info.route.resource
            name = route.canonical if route is not None else "unmatched"
            metrics.requests.labels(app_name, request.method, name, str(status)).inc()
            metrics.latency.labels(app_name, name).observe(elapsed)
            log.info(
                "request",
                extra={
                    "fields": {
                        "app": app_name,
                        "method": request.method,
                        "path": request.path,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    }
                },
            )
            request_id.reset(token)

    return middleware


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors and HTTP errors as problem+json; unexpected ones logged, never leaked."""
    try:
        return await handler(request)
    except ConnectorError as exc:
        return problem(exc.status, exc.reason.value, str(exc), request, exc.reason.value)
    except VocabError as exc:
        return problem(400, exc.reason.value, str(exc), request, exc.reason.value)
    except web.HTTPRequestEntityTooLarge as exc:
        return problem(413, "too-large", exc.text or "the request body is too large", request, "too-large")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem(exc.status, exc.reason, exc.text or exc.reason, request, "http")
    except Exception:
        log.exception("unhandled error")
        return problem(500, "internal-error", "the node failed to handle this request", request, "internal-error")


def bearer_auth(token: str, protected_prefix: str) -> Callable:
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(protected_prefix):
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                raise ConnectorError(Reason.UNAUTHORIZED, "a valid management bearer token is required")
        return await handler(request)

    return middleware
