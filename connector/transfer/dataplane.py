"""The HTTP PULL data plane on the public app: `GET /data/{transfer id}` with a Bearer access
token, `POST /data/{transfer id}/token` to trade a refresh token for a fresh pair.

Each access is checked in full before a byte leaves: the token (known by its hash, unrevoked,
unexpired, an access token, issued for this very transfer, agreement and dataset), the
transfer (STARTED), then the agreement's policy with the count of prior accesses. A request
that resumes a download (an honoured Range not starting at byte 0) is part of the same access
and is not counted again. Files stream from disk with sendfile and answer one byte range
(`ranges.py`: any other Range, or an If-Range that does not match, gets the whole file); a
remote source is proxied chunk by chunk. Refusals are 401 (no valid token) or 403 (a valid
token that may not have this), never the data.
"""

from __future__ import annotations

import math
import os
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web

from connector import strictjson
from connector.transfer import ranges, usage
from connector.transfer.manager import CHUNK, TRANSFERS
from connector.transfer.model import State
from connector.transfer.service import DATA_PATH, TransferService, now
from connector.transfer.store import Token, TokenKind

routes = web.RouteTableDef()
_HOP = ("Content-Length", "Content-Type", "Content-Range", "Accept-Ranges", "ETag", "Last-Modified")


def _refuse(status: int, reason: str) -> web.Response:
    headers = {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'} if status == 401 else None
    return web.json_response({"error": "invalid_token" if status == 401 else "forbidden", "reason": reason},
                             status=status, headers=headers)


async def _token(service: TransferService, request: web.Request, kind: str, secret: str | None,
                 moment: datetime) -> Token | web.Response:
    if not secret:
        return _refuse(401, "a Bearer token is needed")
    token = await service.store.token(usage.digest(secret))
    if token is None or token.kind != kind:
        return _refuse(401, "the token is not valid")
    if token.revoked:
        return _refuse(401, "the token was revoked")
    if token.expires_at <= moment:
        return _refuse(401, "the token has expired")
    if token.transfer_id != request.match_info["tid"]:
        return _refuse(403, "the token was issued for another transfer")
    return token


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _honoured(request: web.Request, path: Any) -> str | None:
    """The Range of REQUEST the answer follows (for a file, If-Range against its validators,
    which are the ones aiohttp's FileResponse sends; a remote source's are unknown here)."""
    etag = modified = None
    if path is not None:
        try:
            st = os.stat(path)
        except OSError:
            return None  # the file response answers for the missing file
        etag, modified = f'"{st.st_mtime_ns:x}-{st.st_size:x}"', math.ceil(st.st_mtime)  # as sent
    return ranges.applicable(request.headers.get("Range"), request.headers.get("If-Range"),
                             etag=etag, modified=modified)


@routes.get(DATA_PATH + "/{tid}")
async def download(request: web.Request) -> web.StreamResponse:
    service = request.config_dict[TRANSFERS]
    moment = now()
    token = await _token(service, request, TokenKind.ACCESS, _bearer(request), moment)
    if isinstance(token, web.Response):
        return token
    p = await service.store.get(token.transfer_id)
    if p is None or p.state is not State.STARTED:
        return _refuse(403, "the transfer is not started")
    if token.agreement_id != p.agreement_id or token.dataset_id != (p.dataset_id or ""):
        return _refuse(403, "the token was issued for another agreement or dataset")
    found = await service.source(p)
    if found is None:
        return _refuse(403, "the dataset has no distribution we can serve")
    path, url = found
    honoured = _honoured(request, path)
    fresh = not ranges.resumes(honoured) and request.method == "GET"
    uses = await service.store.uses(p.agreement_id)
    # a resume continues the last counted exercise; a fresh access would be the next one
    refusal = await service.refusal(p, uses if fresh else max(0, uses - 1))
    if refusal is None and fresh:
        before = await service.store.use(p.agreement_id)
        if before != uses:  # someone else used it meanwhile: decide again on the true count
            refusal = await service.refusal(p, before)
    if refusal:
        return _refuse(403, refusal)
    if path is None:
        return await _proxy(request, service.session, url, honoured)
    return _File(path, honoured)


class _File(web.FileResponse):
    """The file, answering the range we honour (aiohttp's own reading of Range and If-Range
    answers 416 to what it does not support, and ignores an If-Range ETag)."""

    def __init__(self, path: Any, honoured: str | None) -> None:
        super().__init__(path, chunk_size=CHUNK, headers={"Cache-Control": "no-store"})
        self.honoured = honoured

    async def prepare(self, request: web.BaseRequest) -> Any:
        headers = request.headers.copy()
        for name in ("Range", "If-Range"):
            headers.popall(name, None)
        if self.honoured is not None:
            headers["Range"] = self.honoured
        return await super().prepare(request.clone(headers=headers))


async def _proxy(request: web.Request, session: aiohttp.ClientSession, url: str,
                 honoured: str | None) -> web.StreamResponse:
    headers = {"Range": honoured} if honoured is not None else {}
    try:
        async with session.get(url, headers=headers, allow_redirects=False) as upstream:
            if upstream.status not in (200, 206):
                return web.json_response({"error": "source", "reason": f"the source answered {upstream.status}"}, status=502)
            response = web.StreamResponse(status=upstream.status,
                                          headers={k: upstream.headers[k] for k in _HOP if k in upstream.headers})
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(CHUNK):
                await response.write(chunk)
            await response.write_eof()
            return response
    except (TimeoutError, aiohttp.ClientError) as exc:
        return web.json_response({"error": "source", "reason": f"the source failed: {exc}"}, status=502)


@routes.post(DATA_PATH + "/{tid}/token")
async def refresh(request: web.Request) -> web.Response:
    """OAuth-style refresh: {"refresh_token": R} (JSON or form) -> a new access and refresh token."""
    service = request.config_dict[TRANSFERS]
    try:
        body = strictjson.loads(await request.read()) if request.content_type == "application/json" else dict(await request.post())
    except ValueError:
        body = {}
    secret = body.get("refresh_token") or body.get("refreshToken") if isinstance(body, dict) else None
    token = await _token(service, request, TokenKind.REFRESH, secret if isinstance(secret, str) else None, now())
    if isinstance(token, web.Response):
        return token
    p = await service.store.get(token.transfer_id)
    if p is None or p.state is not State.STARTED:
        return _refuse(403, "the transfer is not started")
    access, refresh_secret, records = usage.mint(p, now())
    if not await service.store.rotate(p.id, token.hash, records):
        return _refuse(401, "the token was revoked")
    return web.json_response({"access_token": access, "token_type": "Bearer", "refresh_token": refresh_secret,
                              "expires_in": int(usage.ACCESS_TTL.total_seconds())},
                             headers={"Cache-Control": "no-store"})
