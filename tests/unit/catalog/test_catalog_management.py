"""The management API for datasets over real HTTP on 127.0.0.1 (problem+json on errors)."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from aiohttp import web

from connector.app.middleware import problems
from connector.catalog import routes
from connector.catalog.resources import CATALOG
from connector.catalog.service import CatalogService
from connector.catalog.store import InMemoryCatalogStore

TTL = b"""@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<https://d.example/a> a dcat:Dataset ; dct:title "A" ; dct:description "a" ."""


@pytest.fixture
async def api(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f.csv").write_text("a\n1\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    app = web.Application(middlewares=[problems], client_max_size=2048)
    app.add_routes(routes.management)
    app[CATALOG] = CatalogService(InMemoryCatalogStore(), home=tmp_path / "home", did="did:web:p.example",
                                  public_url="https://p.example", allowed_roots=[src])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, listener).start()
    try:
        async with aiohttp.ClientSession(base_url=base) as session:
            yield session, src
    finally:
        await runner.cleanup()


async def test_publish_show_update_list_withdraw(api):
    session, src = api
    async with session.post("/api/v1/datasets", json={"source": str(src / "f.csv"), "title": "F", "keywords": ["k"]}) as r:
        assert r.status == 201
        created = await r.json()
    async with session.patch(f"/api/v1/datasets/{created['id']}", json={"title": "G", "policy": "members"}) as r:
        assert r.status == 200 and (await r.json())["access"] == "members"
    async with session.get("/api/v1/datasets") as r:
        assert [d["title"] for d in (await r.json())["items"]] == ["G"]
    async with session.delete(f"/api/v1/datasets/{created['id']}") as r:
        assert r.status == 204
    async with session.get(f"/api/v1/datasets/{created['id']}") as r:
        assert r.status == 404 and r.content_type == "application/problem+json"


@pytest.mark.parametrize("body,status", [
    ({"title": "no source"}, 400),
    ({"source": "/etc/passwd", "title": "x"}, 400),
    ({"source": "x", "title": "x", "keywords": "notalist"}, 400),
    ([1, 2], 400),
])
async def test_bad_publish_requests_are_problems(api, body, status):
    session, _ = api
    async with session.post("/api/v1/datasets", json=body) as r:
        assert r.status == status and r.content_type == "application/problem+json"
    async with session.get("/api/v1/datasets") as r:
        assert (await r.json())["items"] == []


async def test_import_by_content_type_and_oversized_bodies(api):
    session, _ = api
    async with session.post("/api/v1/catalog/import", data=TTL, headers={"Content-Type": "text/turtle"}) as r:
        assert r.status == 200 and (await r.json())["created"] == ["https://d.example/a"]
    async with session.post("/api/v1/catalog/import", data=TTL, headers={"Content-Type": "image/png"}) as r:
        assert r.status == 400
    async with session.post("/api/v1/catalog/import", data=b"#" * 4096, headers={"Content-Type": "text/turtle"}) as r:
        assert r.status == 413
