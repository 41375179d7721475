"""Middlewares shared by the public and the management apps.

Request ids, access logs and metrics; the one place where errors become HTTP answers (RFC 9457
problem+json, or DSP error messages on DSP paths); and the door every request body passes
before a handler reads it. Authorization headers are never logged.
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
from connector.auth.middleware import dsp_error
from connector.catalog.resources import DSP_PATH
from connector.errors import ConnectorError, Reason
from connector.metrics import Metrics
from connector.request import charset_of
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


def answer(request: web.Request, status: int, kind: str, detail: str, title: str | None = None) -> web.Response:
    """An error in the format of the route's family: a DSP error message on DSP paths (whose
    clients speak DSP), problem+json everywhere else."""
    if request.path.startswith(DSP_PATH):
        return dsp_error(request, status, detail)
    return problem(status, title or kind, detail, request, kind)


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors and HTTP errors as answers; unexpected ones logged, never leaked.

    Two errors that no handler means to raise are still the caller's doing: input nested so
    deep that a parser or walker ran out of stack, and text that is not valid in its encoding.
    They are 400s wherever they surface."""
    try:
        return await handler(request)
    except ConnectorError as exc:
        return answer(request, exc.status, exc.reason.value, str(exc))
    except VocabError as exc:
        return answer(request, 400, exc.reason.value, str(exc))
    except web.HTTPRequestEntityTooLarge as exc:
        return answer(request, 413, "too-large", exc.text or "the request body is too large")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return answer(request, exc.status, "http", exc.text or exc.reason, exc.reason)
    except (RecursionError, UnicodeError) as exc:
        log.warning("malformed input reached a handler", exc_info=True)
        why = "nests too deeply" if isinstance(exc, RecursionError) else "holds text not valid in its encoding"
        return answer(request, 400, Reason.BAD_INPUT.value, f"the request {why}")
    except Exception:
        log.exception("unhandled error")
        return answer(request, 500, "internal-error", "the node failed to handle this request")


@web.middleware
async def checked_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The door for request bodies, after authentication (nobody else makes us read): no
    content coding and a charset we know. The JSON itself is parsed strictly where it is read
    (`json_body`, the DSP codecs: connector.strictjson), once."""
    if request.body_exists and request.match_info.http_exception is None:  # unknown paths: 404
        coding = request.headers.get("Content-Encoding", "identity").strip().lower()
        if coding not in ("identity", ""):
            # aiohttp inflates gzip and deflate itself, but a stream that is cut short leaves the
            # reader waiting forever, and it passes codings it does not know through unchanged;
            # no client of ours compresses what it sends (RFC 9110 section 15.5.16)
            response = answer(request, 415, Reason.UNSUPPORTED_MEDIA_TYPE.value,
                              f"request bodies are not compressed here (Content-Encoding {coding[:40]!r})")
            response.headers["Accept-Encoding"] = "identity"
            return response
        charset_of(request)
    return await handler(request)


def bearer_auth(token: str, protected_prefix: str) -> Callable:
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(protected_prefix):
            # a header with bytes that are not UTF-8 arrives with surrogates in place of them
            given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
            if not hmac.compare_digest(given, expected):
                raise ConnectorError(Reason.UNAUTHORIZED, "a valid management bearer token is required")
        return await handler(request)

    return middleware
