"""The management API for datasets over real HTTP on 127.0.0.1 (problem+json on errors)."""

from __future__ import annotations

import json
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
                                  public_url="https://p.example", allowed_roots=[src], max_upload_bytes=3000)
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


async def test_an_import_may_be_larger_than_other_requests(api):
    """The app's client_max_size (2048 here) caps JSON requests; a catalog gets the upload cap."""
    session, _ = api
    padded = TTL + b"\n" + b"#" * 2500 + b"\n"
    async with session.post("/api/v1/catalog/import", data=padded, headers={"Content-Type": "text/turtle"}) as r:
        assert r.status == 200, await r.text()


def upload(metadata: object, content: bytes, filename: str = "air.csv", order: tuple[str, ...] = ("metadata", "file")):
    form = aiohttp.FormData(quote_fields=False)  # curl-like: names as they are
    for name in order:
        if name == "metadata":
            form.add_field("metadata", json.dumps(metadata), content_type="application/json")
        else:
            form.add_field("file", content, filename=filename, content_type="text/csv")
    return form


async def test_an_uploaded_file_is_stored_under_data_and_published(api, tmp_path):
    session, _ = api
    metadata = {"title": "Air", "keywords": ["air"], "policy": {
        "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "uid": "http://x.example/p",
        "permission": [{"action": "use"}]}}
    content = b"station,pm10\n" + b"A,12\n" * 500  # above the app's client_max_size, under the upload cap
    async with session.post("/api/v1/datasets", data=upload(metadata, content, "air quality.csv")) as r:
        assert r.status == 201, await r.text()
        created = await r.json()
    [dist] = created["distributions"]
    assert dist["byte_size"] == len(content) and dist["file"].endswith("/air quality.csv")
    assert (tmp_path / "home" / "data" / dist["file"]).read_bytes() == content
    assert created["access"] == "public" and created["offers"][0]["@type"] == "Offer"


TRUNCATED = (b'--xx\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"title": "x"}\r\n'
             b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nstation,pm')


@pytest.mark.parametrize("form,status", [
    (lambda: upload({"title": "x"}, b"a\n", order=("file", "metadata")), 400),
    (lambda: TRUNCATED, 400),  # a body that ends inside the file part publishes nothing
    (lambda: b"no parts at all", 400),
    (lambda: upload({"description": "no title"}, b"a\n"), 400),
    (lambda: upload({"title": "x", "policy": 7}, b"a\n"), 400),
    (lambda: upload({"title": "x"}, b"a\n", filename=".hidden"), 400),
    (lambda: upload({"title": "x"}, b"-----BEGIN EC PRIVATE KEY-----\nMHcC\n"), 403),
    (lambda: upload({"title": "x"}, b"x" * 3001), 413),
])
async def test_bad_uploads_are_problems_and_leave_nothing(api, tmp_path, form, status):
    session, _ = api
    body = form()
    headers = {"Content-Type": "multipart/form-data; boundary=xx"} if isinstance(body, bytes) else None
    async with session.post("/api/v1/datasets", data=body, headers=headers) as r:
        assert r.status == status and r.content_type == "application/problem+json", await r.text()
        assert (await r.json())["detail"]
    async with session.get("/api/v1/datasets") as r:
        assert (await r.json())["items"] == []
    data = tmp_path / "home" / "data"
    assert not data.exists() or not any(data.rglob("*"))
