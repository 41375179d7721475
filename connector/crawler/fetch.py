"""Bounded HTTP for the crawler: every request has a deadline that covers the body too, every
body a size cap enforced while it streams, redirects are never followed, and a `next` page
link is followed only on the member's own origin. Failures are one sentence, never a stall."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp


class FetchFailed(Exception):
    """What went wrong with one request, as a sentence for the crawl report."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int  # 200, or 304 when a conditional request found nothing new (412 on a POST too)
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    next_url: str | None  # the Link rel="next" page, on the same origin only


def same_origin(a: str, b: str) -> bool:
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme, x.netloc) == (y.scheme, y.netloc)


def conditional(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The validators a source gave last time, as the headers of a conditional GET."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


async def fetch(session: aiohttp.ClientSession, url: str, *, limit: int, timeout: float,
                method: str = "GET", headers: dict[str, str] | None = None,
                json: Any = None) -> Fetched:
    """One request; raises FetchFailed on a network error, a timeout, a status other than
    200/304, or a body above LIMIT bytes (reading stops there)."""
    try:
        async with asyncio.timeout(timeout):
            async with session.request(method, url, headers=headers or {}, json=json,
                                       allow_redirects=False,
                                       timeout=aiohttp.ClientTimeout(total=None)) as response:
                # a conditional POST (the DSP catalog request) that finds nothing new fails its
                # precondition: 412, as RFC 9110 asks of methods other than GET and HEAD
                if response.status == 304 or (response.status == 412 and method != "GET"
                                              and "If-None-Match" in (headers or {})):
                    return Fetched(url, 304, b"", "", response.headers.get("ETag"),
                                   response.headers.get("Last-Modified"), None)
                if response.status != 200:
                    raise FetchFailed(f"{method} {url} answered HTTP {response.status}")
                if (response.content_length or 0) > limit:
                    raise FetchFailed(f"{url} is larger than the {limit} bytes allowed")
                body = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > limit:
                        raise FetchFailed(f"{url} is larger than the {limit} bytes allowed")
                link = response.links.get("next", {}).get("url")
                next_url = str(link) if link is not None else None
                if next_url is not None and not same_origin(url, next_url):
                    raise FetchFailed(f"{url} links its next page to another origin ({next_url[:120]})")
                return Fetched(url, 200, bytes(body), response.content_type,
                               response.headers.get("ETag"), response.headers.get("Last-Modified"),
                               next_url)
    except TimeoutError:
        raise FetchFailed(f"{method} {url} took longer than {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        raise FetchFailed(f"cannot reach {url}: {type(exc).__name__} {exc}".strip()) from None
    except ValueError as exc:  # a malformed Link header, an invalid URL
        raise FetchFailed(f"{url}: {exc}") from None
