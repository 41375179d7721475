"""The consumer's PULL download: stream a DataAddress's endpoint into a file in constant memory,
resume with Range after a dropped connection, refresh the access token when it expires.

The bytes go to PATH.part first and are renamed to PATH once complete, so a file at PATH is
always whole; a later run finds the .part and resumes it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from connector.errors import ConnectorError, Reason
from connector.transfer import codec

CHUNK = 1 << 20
RETRIES = 5  # dropped connections in a row before giving up


@dataclass
class Downloaded:
    path: Path
    bytes: int
    resumed: int  # how many times a dropped download went on with Range
    refreshed: int  # how many times the access token was refreshed


async def _refresh(session: aiohttp.ClientSession, props: dict[str, str]) -> bool:
    endpoint, token = props.get("refreshEndpoint"), props.get("refreshToken")
    if not endpoint or not token:
        return False
    async with session.post(endpoint, json={"refresh_token": token}, allow_redirects=False) as r:
        if r.status != 200:
            return False
        body = await r.json()
    props["authorization"], props["refreshToken"] = body["access_token"], body["refresh_token"]
    return True


async def download(session: aiohttp.ClientSession, address: dict[str, Any], out: Path,
                   progress: Callable[[int, int | None], None] | None = None) -> Downloaded:
    """Fetch ADDRESS (a DSP DataAddress with a bearer `authorization`) into OUT."""
    props = codec.properties(address)
    endpoint = address.get("endpoint")
    if not isinstance(endpoint, str) or "authorization" not in props:
        raise ConnectorError(Reason.BAD_INPUT, "the data address has no endpoint or token to pull with")
    part = out.with_name(out.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    resumed = refreshed = failures = 0
    while True:
        headers = {"Authorization": f"Bearer {props['authorization']}"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            async with session.get(endpoint, headers=headers, allow_redirects=False) as r:
                if r.status == 401 and refreshed < 3 and await _refresh(session, props):
                    refreshed += 1
                    continue
                if r.status == 416 and offset:  # the .part is already whole
                    break
                if r.status not in (200, 206):
                    detail = (await r.text())[:300]
                    raise ConnectorError(Reason.FORBIDDEN if r.status in (401, 403) else Reason.BAD_INPUT,
                                         f"the provider refused the download ({r.status}): {detail}")
                if r.status == 200:
                    offset = 0  # no Range support: start over
                total = r.content_length + offset if r.content_length is not None else None
                with open(part, "r+b" if offset else "wb") as handle:
                    handle.seek(offset)
                    async for chunk in r.content.iter_chunked(CHUNK):
                        handle.write(chunk)
                        offset += len(chunk)
                        if progress:
                            progress(offset, total)
                    handle.truncate()
                if total is not None and offset < total:
                    raise aiohttp.ClientPayloadError("the connection ended early")
                break
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError):
            failures += 1
            if failures > RETRIES:
                raise ConnectorError(Reason.BAD_INPUT, f"the download kept failing after {offset} bytes") from None
            resumed += 1
            offset = part.stat().st_size if part.exists() else 0
            await asyncio.sleep(min(2.0, 0.1 * 2**failures))
    os.replace(part, out)
    return Downloaded(out, offset, resumed, refreshed)
