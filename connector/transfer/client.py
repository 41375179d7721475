"""The consumer's PULL download: stream a DataAddress's endpoint into a file in constant memory,
resume with Range after a dropped connection, refresh the access token when it is refused.

The bytes go to PATH.part first and are renamed to PATH once complete, so a file at PATH is
always whole; a later run finds the .part and resumes it. A refresh replaces the token pair
(the provider revokes the old one), so the newest pair is kept beside it in PATH.part.token
(0600) for that later run. An unreachable or restarting provider (no connection, a dropped
one, 502-504) is retried with backoff for up to RETRY_FOR seconds without progress; `pause`
is told each wait, to show it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from connector import strictjson
from connector.errors import ConnectorError, Reason
from connector.transfer import codec

CHUNK = 1 << 20
RETRY_FOR = 60.0  # seconds without progress before giving up on the provider
TRANSIENT = (502, 503, 504)  # a provider restarting behind a proxy

Pause = Callable[[float, float, str], Awaitable[None]]  # (seconds, seconds left, why)


async def _sleep(seconds: float, left: float, why: str) -> None:
    await asyncio.sleep(seconds)


@dataclass
class Downloaded:
    path: Path
    bytes: int
    resumed: int  # how many times a dropped download went on with Range
    refreshed: int  # how many times the access token was refreshed


class _Transient(Exception):
    """The provider did not answer this time; it may soon."""


def _token_file(out: Path) -> Path:
    return out.with_name(out.name + ".part.token")


def _tokens(address: dict[str, Any], out: Path) -> dict[str, str]:
    """The endpoint properties to pull with: the newest pair kept beside the .part, if it is
    for this endpoint, else the address's own."""
    props = codec.properties(address)
    try:
        kept = json.loads(_token_file(out).read_text())
    except (OSError, ValueError):
        return props
    if isinstance(kept, dict) and kept.get("endpoint") == address.get("endpoint"):
        props.update({k: v for k, v in kept.items() if k in ("authorization", "refreshToken")
                      and isinstance(v, str)})
    return props


def _keep(out: Path, endpoint: str, props: dict[str, str]) -> None:
    path = _token_file(out)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"endpoint": endpoint, "authorization": props["authorization"],
                   "refreshToken": props.get("refreshToken", "")}, handle)


async def _refresh(session: aiohttp.ClientSession, props: dict[str, str]) -> bool:
    endpoint, token = props.get("refreshEndpoint"), props.get("refreshToken")
    if not endpoint or not token:
        return False
    async with session.post(endpoint, json={"refresh_token": token}, allow_redirects=False) as r:
        if r.status in TRANSIENT:
            raise _Transient(f"the token endpoint answered {r.status}")
        try:
            body = strictjson.loads(await r.read()) if r.status == 200 else None
        except ValueError:
            body = None
    pair = (body.get("access_token"), body.get("refresh_token")) if isinstance(body, dict) else ()
    if not pair or not all(isinstance(value, str) for value in pair):
        return False
    props["authorization"], props["refreshToken"] = pair
    return True


async def download(session: aiohttp.ClientSession, address: dict[str, Any], out: Path,
                   progress: Callable[[int, int | None], None] | None = None, *,
                   retry_for: float = RETRY_FOR, pause: Pause = _sleep) -> Downloaded:
    """Fetch ADDRESS (a DSP DataAddress with a bearer `authorization`) into OUT."""
    props = _tokens(address, out)
    endpoint = address.get("endpoint")
    if not isinstance(endpoint, str) or "authorization" not in props:
        raise ConnectorError(Reason.BAD_INPUT, "the data address has no endpoint or token to pull with")
    part = out.with_name(out.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    resumed = refreshed = failures = 0
    refused_after_refresh = False
    since: float | None = None  # when the provider stopped answering
    while True:
        headers = {"Authorization": f"Bearer {props['authorization']}"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            async with session.get(endpoint, headers=headers, allow_redirects=False) as r:
                if r.status in TRANSIENT:
                    raise _Transient(f"the provider answered {r.status}")
                if r.status == 401 and not refused_after_refresh and await _refresh(session, props):
                    refreshed += 1
                    refused_after_refresh = True  # a refused fresh token is final
                    _keep(out, endpoint, props)
                    continue
                if r.status == 416 and offset:  # the .part is already whole
                    break
                if r.status not in (200, 206):
                    detail = (await r.text())[:300]
                    raise ConnectorError(Reason.FORBIDDEN if r.status in (401, 403) else Reason.BAD_INPUT,
                                         f"the provider refused the download ({r.status}): {detail}")
                refused_after_refresh = False
                if r.status == 200:
                    offset = 0  # the whole representation: start over
                total = r.content_length + offset if r.content_length is not None else None
                with open(part, "r+b" if offset else "wb") as handle:
                    handle.seek(offset)
                    async for chunk in r.content.iter_chunked(CHUNK):
                        handle.write(chunk)
                        offset += len(chunk)
                        since, failures = None, 0  # progress: a later outage gets the whole delay
                        if progress:
                            progress(offset, total)
                    handle.truncate()
                if total is not None and offset < total:
                    raise aiohttp.ClientPayloadError("the connection ended early")
                break
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError, _Transient) as exc:
            failures += 1
            since = since or time.monotonic()
            left = since + retry_for - time.monotonic()
            if left <= 0:
                raise ConnectorError(Reason.BAD_INPUT, f"the provider did not answer for {retry_for:g} s "
                                     f"({type(exc).__name__}: {exc}); {offset} bytes are in {part}") from None
            resumed += 1
            offset = part.stat().st_size if part.exists() else 0
            await pause(min(left, 5.0, 0.2 * 2**min(failures, 5)), left, f"{type(exc).__name__}: {exc}")
    os.replace(part, out)
    _token_file(out).unlink(missing_ok=True)
    return Downloaded(out, offset, resumed, refreshed)
