"""What a crawler asks again costs the provider little: each page of a node's DCAT export
and DSP catalog carries an ETag drawn from the content of its window of datasets (in id
order), so an unchanged page answers 304 (412 to the DSP catalog's POST, as RFC 9110 asks),
and a changed dataset dirties only the page that holds it."""

from __future__ import annotations

import pytest

from tests.integration.crawler_members import seed_catalog
from tests.nodes import client, init_node, serving

MESSAGE = {"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
           "@type": "CatalogRequestMessage", "filter": []}
NT = {"Accept": "application/n-triples"}


@pytest.fixture
def folder(tmp_path):
    return init_node(tmp_path / "node", registration="leiCode:529900T8BM49AURSDO55")


async def test_catalog_pages_answer_conditional_requests(folder) -> None:
    async with serving(folder) as node, client() as http:
        seed_catalog(folder, node.did, 6)
        tags = {}
        for offset in (0, 2, 4):
            async with http.get(f"{node.public}/catalog?offset={offset}&limit=2", headers=NT) as r:
                assert r.status == 200 and r.headers.get("ETag"), await r.text()
                tags[offset] = r.headers["ETag"]
        assert len(set(tags.values())) == 3
        async with http.get(f"{node.public}/catalog?offset=2&limit=2",
                            headers={**NT, "If-None-Match": tags[2]}) as r:
            assert r.status == 304 and await r.read() == b""
        async with http.get(f"{node.public}/catalog?offset=2&limit=2",  # another format
                            headers={"Accept": "text/turtle", "If-None-Match": tags[2]}) as r:
            assert r.status == 200 and r.headers["ETag"] != tags[2]

        async with http.patch(f"{node.management}/api/v1/datasets/00000003", headers=node.auth,
                              json={"title": "Air quality station 3 (revised)"}) as r:
            assert r.status == 200, await r.text()
        for offset, status in ((0, 304), (2, 200), (4, 304)):  # only its page changed
            async with http.get(f"{node.public}/catalog?offset={offset}&limit=2",
                                headers={**NT, "If-None-Match": tags[offset]}) as r:
                assert r.status == status, offset
                if status == 200:
                    assert "(revised)" in await r.text() and r.headers["ETag"] != tags[offset]

        url = f"{node.public}/dsp/catalog/request?offset=0&limit=4"
        async with http.post(url, json=MESSAGE) as r:
            assert r.status == 200 and r.headers.get("ETag"), await r.text()
            tag = r.headers["ETag"]
        async with http.post(url, json=MESSAGE, headers={"If-None-Match": tag}) as r:
            assert r.status == 412 and r.headers["ETag"] == tag
        async with http.post(url, json=MESSAGE, headers={"If-None-Match": '"other"'}) as r:
            assert r.status == 200 and len((await r.json())["dataset"]) == 4
