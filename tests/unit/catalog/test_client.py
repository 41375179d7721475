"""The consumer's discovery of a provider's DSP base, over real HTTP."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from connector.catalog import client
from connector.errors import ConnectorError
from tests.conftest import serving


@pytest.fixture
async def provider():
    """(origin, answers): a server whose well-known answer the test sets, counting its calls."""
    answers = {"path": "/dsp", "hits": 0}

    async def version(_request: web.Request) -> web.Response:
        answers["hits"] += 1
        return web.json_response({"protocolVersions": [{"version": "2025-1", "path": answers["path"], "binding": "HTTPS"}]})

    app = web.Application()
    app.router.add_get("/.well-known/dspace-version", version)
    async with serving(app) as origin:
        yield origin, answers


async def test_the_base_is_asked_once_then_remembered_for_a_while(provider, monkeypatch):
    origin, answers = provider
    client._bases.clear()  # the port may have served another test's provider
    async with aiohttp.ClientSession() as session:
        assert await client.dsp_base(session, origin + "/") == origin + "/dsp"
        answers["path"] = "/elsewhere"
        assert await client.dsp_base(session, origin) == origin + "/dsp"  # remembered
        assert answers["hits"] == 1
        monkeypatch.setattr(client, "BASE_TTL", 0.0)
        client._bases.clear()
        assert await client.dsp_base(session, origin) == origin + "/elsewhere"
        assert await client.dsp_base(session, origin) == origin + "/elsewhere"
        assert answers["hits"] == 3  # with no time to remember, each call asks


async def test_a_provider_without_dsp_2025_is_refused_and_not_remembered(provider):
    origin, answers = provider
    answers["path"] = None
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            with pytest.raises(ConnectorError, match="does not speak"):
                await client.dsp_base(session, origin)
    assert answers["hits"] == 2


async def test_a_providers_error_is_said_in_a_sentence_not_pasted():
    """A DSP CatalogError (or anything else) from the provider becomes one line of ours."""

    async def version(_request: web.Request) -> web.Response:
        return web.json_response({"protocolVersions": [{"version": "2025-1", "path": "/dsp", "binding": "HTTPS"}]})

    async def refuse(_request: web.Request) -> web.Response:
        body = {"@context": [client.DSP_CONTEXT], "@type": "CatalogError", "code": "403",
                "reason": ["members only\x1b[31m"]}
        return web.json_response(body, status=403)

    app = web.Application()
    app.router.add_get("/.well-known/dspace-version", version)
    app.router.add_post("/dsp/catalog/request", refuse)
    async with serving(app) as origin, aiohttp.ClientSession() as session:
        client._bases.clear()
        with pytest.raises(ConnectorError) as caught:
            await client.fetch_catalog(session, origin)
    said = str(caught.value)
    assert "answered 403: members only" in said and "{" not in said and "\x1b" not in said, said
