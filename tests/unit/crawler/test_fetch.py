"""Bounded fetches against a real server on loopback: a body over the cap stops the read, a
member that never answers costs one timeout, redirects are not followed, a next page on
another origin is refused, and 304 answers a conditional request."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connector.crawler.fetch import FetchFailed, conditional, fetch


async def _big(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()  # no Content-Length: the cap must hold while streaming
    await response.prepare(request)
    for _ in range(1000):
        await response.write(b"x" * 65536)
    return response


async def _never(request: web.Request) -> web.Response:
    await asyncio.sleep(3600)
    return web.Response()


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("http://127.0.0.1:9/elsewhere")


async def _elsewhere(request: web.Request) -> web.Response:
    return web.Response(text="page", headers={"Link": '<http://127.0.0.2:9/next>; rel="next"'})


async def _paged(request: web.Request) -> web.Response:
    return web.Response(text="page", headers={"Link": "</paged?offset=1>; rel=\"next\"",
                                              "ETag": '"v1"'})


async def _etag(request: web.Request) -> web.Response:
    if request.headers.get("If-None-Match") == '"v1"':
        return web.Response(status=304, headers={"ETag": '"v1"'})
    return web.Response(text="body", headers={"ETag": '"v1"'})


@pytest.fixture
async def server():
    app = web.Application()
    app.router.add_get("/big", _big)
    app.router.add_get("/never", _never)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/elsewhere", _elsewhere)
    app.router.add_get("/paged", _paged)
    app.router.add_get("/etag", _etag)
    async with TestServer(app, host="127.0.0.1") as s, aiohttp.ClientSession() as session:
        yield str(s.make_url("")).rstrip("/"), session


async def test_a_body_over_the_cap_stops_the_read(server) -> None:
    base, session = server
    with pytest.raises(FetchFailed, match="larger than the 100000 bytes"):
        await fetch(session, f"{base}/big", limit=100_000, timeout=10)


async def test_a_member_that_never_answers_costs_one_timeout(server) -> None:
    base, session = server
    started = time.monotonic()
    with pytest.raises(FetchFailed, match="took longer than 0.5 s"):
        await fetch(session, f"{base}/never", limit=1000, timeout=0.5)
    assert time.monotonic() - started < 3


async def test_redirects_are_not_followed(server) -> None:
    base, session = server
    with pytest.raises(FetchFailed, match="answered HTTP 302"):
        await fetch(session, f"{base}/redirect", limit=1000, timeout=5)


async def test_a_next_page_on_another_origin_is_refused(server) -> None:
    base, session = server
    with pytest.raises(FetchFailed, match="another origin"):
        await fetch(session, f"{base}/elsewhere", limit=1000, timeout=5)
    page = await fetch(session, f"{base}/paged", limit=1000, timeout=5)
    assert page.next_url == f"{base}/paged?offset=1" and page.etag == '"v1"'


async def test_a_conditional_request_gets_304(server) -> None:
    base, session = server
    first = await fetch(session, f"{base}/etag", limit=1000, timeout=5)
    assert first.status == 200 and first.body == b"body"
    again = await fetch(session, f"{base}/etag", limit=1000, timeout=5,
                        headers=conditional(first.etag, first.last_modified))
    assert again.status == 304 and again.body == b""


async def test_an_unreachable_member_is_a_sentence(server) -> None:
    _, session = server
    with pytest.raises(FetchFailed, match="cannot reach"):
        await fetch(session, "http://127.0.0.1:9/x", limit=1000, timeout=5)
