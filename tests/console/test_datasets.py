"""The console's dataset pages over real HTTP to a real node (no browser): publish by a
streamed multipart upload, see it in the public catalog, edit its metadata and policy,
refuse bad input with a sentence and no change, withdraw it."""

from __future__ import annotations

import html

import aiohttp
import pytest
import pytest_asyncio

from connector.catalog.resources import CATALOG
from tests.console.test_sessions import session_for, signed_in
from tests.nodes import init_node, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return init_node(tmp_path_factory.mktemp("datasets"))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def node(folder):
    async with serving(folder) as running:
        yield running


def upload_form(title: str = "Noise map", with_file: bool = True) -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in (("title", title), ("keywords", "noise, city"), ("policy", "pay-per-use"), ("price", "1.5")):
        form.add_field(name, value)
    if with_file:
        form.add_field("file", b"street,db\nRivoli,71\n", filename="noise.csv", content_type="text/csv")
    return form


async def test_publish_edit_and_withdraw(node):
    catalog = node.running.management_app[CATALOG]
    async with session_for(node) as http:
        csrf = await signed_in(http, node.token)
        async with http.post("/datasets/upload", data=upload_form(), headers={"Accept": "text/plain"}) as response:
            assert response.status == 403  # no CSRF header: refused before the body is read
        assert await catalog.store.count() == 0
        async with http.post("/datasets/upload", data=upload_form(with_file=False),
                             headers={"X-CSRF-Token": csrf, "Accept": "text/plain"}) as response:
            assert response.status == 400 and await response.text() == "Choose a file to publish."
        async with http.post("/datasets/upload", data=upload_form(),
                             headers={"X-CSRF-Token": csrf, "Accept": "text/plain"}) as response:
            assert response.status == 201, await response.text()
            location = response.headers["Location"]
        dataset_id = location.split("/")[2].split("?")[0]
        published = await catalog.get(dataset_id)
        assert published.keywords == ("noise", "city") and "compensate" in published.offers[0]
        async with aiohttp.ClientSession() as anonymous:  # in the public catalog at once
            async with anonymous.get(f"{node.public}/catalog", headers={"Accept": "application/n-triples"}) as response:
                assert '"Noise map"' in await response.text()
        async with http.get(location) as response:
            page = html.unescape(await response.text())
            assert "The dataset was published." in page and "pay per use" in page

        edit = {"csrf": csrf, "title": "Noise map 2026", "keywords": "noise", "license": "not an iri", "policy": "open"}
        async with http.post(f"/datasets/{dataset_id}", data=edit) as response:
            assert response.status == 400
            assert "must be an IRI" in html.unescape(await response.text())
        assert (await catalog.get(dataset_id)).title == "Noise map"  # nothing changed
        edit["license"] = "http://creativecommons.org/licenses/by/4.0/"
        async with http.post(f"/datasets/{dataset_id}", data=edit) as response:
            assert response.status == 200 and "Your changes were saved." in await response.text()
        edited = await catalog.get(dataset_id)
        assert edited.title == "Noise map 2026" and edited.access.value == "public"
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.get(f"{node.public}/catalog", headers={"Accept": "application/n-triples"}) as response:
                assert "Noise map 2026" in await response.text()

        async with http.post(f"/datasets/{dataset_id}/withdraw", data={"csrf": csrf}) as response:
            assert response.status == 200 and "The dataset was withdrawn." in await response.text()
        assert await catalog.store.count() == 0


async def test_the_odrl_check_as_you_type(node):
    async with session_for(node) as http:
        csrf = await signed_in(http, node.token)
        fragment = {"X-CSRF-Token": csrf, "HX-Request": "true"}
        good = '{"@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "uid": "urn:x", "permission": [{"action": "use"}]}'
        for text, expected in ((good, "This ODRL policy is usable."), ("[]", "must be a JSON object"),
                               ('{"@type": "Set"}', "not a usable ODRL policy")):
            async with http.post("/policy/check", data={"odrl": text}, headers=fragment) as response:
                assert response.status == 200
                assert expected in html.unescape(await response.text()), text


async def test_the_paged_list(node):
    catalog = node.running.management_app[CATALOG]
    for n in range(30):
        await catalog.publish_upload(f"f{n}.csv", _one(b"a,b\n1,2\n"), title=f"Set {n:02d}")
    async with session_for(node) as http:
        await signed_in(http, node.token)
        async with http.get("/datasets?limit=25") as response:
            first = await response.text()
        async with http.get("/datasets?offset=25&limit=25") as response:
            second = await response.text()
    assert first.count('href="/datasets/') - first.count('href="/datasets/upload') == 25 and "1–25 of 30" in first
    assert "26–30 of 30" in second and 'rel="prev"' in second


async def _one(data: bytes):
    yield data
