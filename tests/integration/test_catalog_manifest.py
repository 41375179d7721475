"""Catalog manifests and dataset selection, what a crawler re-crawls with: real nodes (a trust
anchor, a provider, a member holding its membership credential) over real HTTP, and the stores
on real SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import pyoxigraph as ox
import pytest
import pytest_asyncio
import sqlalchemy as sa

from connector.auth.client import dsp_request
from connector.catalog.model import Access, Dataset
from connector.catalog.resources import CATALOG
from connector.catalog.selection import SELECTED, SELECTION
from connector.catalog.sql import SqlCatalogStore
from connector.catalog.store import InMemoryCatalogStore
from connector.storage.database import Database
from tests.conftest import database_backends, open_test_database
from tests.nodes import client, init_federation, publish, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")
PUBLIC_COUNT = 24
DCAT = "\n".join(
    ["@prefix dcat: <http://www.w3.org/ns/dcat#> .", "@prefix dct: <http://purl.org/dc/terms/> ."]
    + [f'<https://data.example/d{n:02}> a dcat:Dataset ; dct:title "Dataset {n}" ; dct:description "Number {n}" .'
       for n in range(PUBLIC_COUNT)]
).encode()


def request(*filters: dict) -> dict:
    return {"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"], "@type": "CatalogRequestMessage",
            "filter": list(filters)}


def selecting(iris: list) -> dict:
    return {"@type": SELECTION, SELECTED: iris}


def listed(catalog: dict) -> list[dict]:
    datasets = catalog.get("dataset", [])
    return datasets if isinstance(datasets, list) else [datasets]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return init_federation(tmp_path_factory)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(folders):
    anchor_dir, provider_dir, member_dir = folders
    async with serving(anchor_dir) as anchor, serving(provider_dir) as provider, serving(member_dir) as member, \
            client() as http:
        async with http.post(f"{provider.management}/api/v1/catalog/import", data=DCAT,
                             headers={**provider.auth, "Content-Type": "text/turtle"}) as response:
            assert response.status == 200, await response.text()
        hidden = await publish(http, provider, provider_dir / "data/traffic.csv", "Traffic counts", policy="members")
        issue = {"subject": member.did, "type": "MembershipCredential", "claims": {"role": "member"}}
        async with http.post(f"{anchor.management}/api/v1/credentials/issue", json=issue, headers=anchor.auth) as response:
            token = (await response.json())["credential"]
        async with http.post(f"{member.management}/api/v1/credentials", data=token, headers=member.auth) as response:
            assert response.status == 201
        service = provider.running.public_app[CATALOG]
        hidden_iri = (await service.get(hidden["id"])).iri
        yield provider, member, http, hidden_iri


def as_member(member, method: str, url: str, **options):
    node = member.running.node
    return dsp_request(node.session, method, url, signer=node.signer, **options)


async def full_catalog(http, provider, member=None) -> list[dict]:
    """Every dataset of the DSP catalog, read page by page (limit 10)."""
    found: list[dict] = []
    while True:
        url = f"{provider.public}/dsp/catalog/request?offset={len(found)}&limit=10"
        send = as_member(member, "POST", url, json=request()) if member else http.post(url, json=request())
        async with send as response:
            assert response.status == 200, await response.text()
            page = listed(await response.json())
        found += page
        if len(page) < 10:
            return found


# ---------------------------------------------------------------------------- manifests


async def test_the_public_manifest_lists_public_datasets_with_their_hashes_and_answers_304(world):
    provider, member, http, hidden_iri = world
    service = provider.running.public_app[CATALOG]
    async with http.get(f"{provider.public}/catalog/manifest") as response:
        assert response.status == 200 and response.content_type == "application/json"
        body, tag = await response.json(), response.headers["ETag"]
    assert body["catalog"] == f"{provider.public}/catalog" and body["total"] == PUBLIC_COUNT
    assert [tuple(p) for p in body["datasets"]] == await service.store.hashes(frozenset({Access.PUBLIC}))
    assert [p[0] for p in body["datasets"]] == [d["@id"] for d in await full_catalog(http, provider)]
    assert hidden_iri not in {p[0] for p in body["datasets"]}
    assert tag.startswith('"') and not tag.startswith("W/")

    async with http.get(f"{provider.public}/catalog/manifest", headers={"If-None-Match": tag}) as response:
        assert response.status == 304 and response.headers["ETag"] == tag and not await response.read()


async def test_a_change_changes_one_fingerprint_and_the_manifest_tag(world):
    provider, member, http, hidden_iri = world
    async with http.get(f"{provider.public}/catalog/manifest") as response:
        before, tag = dict(map(tuple, (await response.json())["datasets"])), response.headers["ETag"]
    service = provider.running.public_app[CATALOG]
    changed = await service.store.get_by_iri("https://data.example/d07")
    await service.update(changed.id, title="Dataset seven, renamed")
    async with http.get(f"{provider.public}/catalog/manifest", headers={"If-None-Match": tag}) as response:
        assert response.status == 200 and response.headers["ETag"] != tag
        after = dict(map(tuple, (await response.json())["datasets"]))
    assert {iri for iri in before if before[iri] != after[iri]} == {"https://data.example/d07"}


async def test_the_dsp_manifest_shows_each_caller_what_it_may_see(world):
    provider, member, http, hidden_iri = world
    url = f"{provider.public}/dsp/catalog/manifest"
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        anonymous, anonymous_tag = await response.json(), response.headers["ETag"]
    async with http.get(f"{provider.public}/catalog/manifest") as response:
        assert anonymous == await response.json()
    async with as_member(member, "GET", url) as response:
        assert response.status == 200, await response.text()
        members, member_tag = await response.json(), response.headers["ETag"]
    assert members["total"] == PUBLIC_COUNT + 1 and hidden_iri in {p[0] for p in members["datasets"]}
    assert [p[0] for p in members["datasets"]] == [d["@id"] for d in await full_catalog(http, provider, member)]
    assert member_tag != anonymous_tag
    async with as_member(member, "GET", url, headers={"If-None-Match": member_tag}) as response:
        assert response.status == 304 and response.headers["ETag"] == member_tag
    async with http.get(url, headers={"If-None-Match": member_tag}) as response:
        assert response.status == 200  # the member's tag does not name the anonymous view
    async with http.get(url, headers={"Authorization": "forged.token.here"}) as response:
        assert response.status == 401 and (await response.json())["@type"] == "CatalogError"


# ---------------------------------------------------------------------------- DSP selection


async def test_a_dsp_selection_answers_the_datasets_of_the_full_pages_the_caller_may_see(world):
    provider, member, http, hidden_iri = world
    everything = {d["@id"]: d for d in await full_catalog(http, provider, member)}
    picked = ["https://data.example/d12", hidden_iri, "https://data.example/d03", "https://nowhere.example/x",
              "https://data.example/d20", "https://data.example/d03"]
    url = f"{provider.public}/dsp/catalog/request?offset=5&limit=1"
    async with http.post(url, json=request({"@type": "Other"}, selecting(picked))) as response:
        assert response.status == 200, await response.text()
        anonymous = await response.json()
        assert "Link" not in response.headers and response.headers["ETag"]
    expected = sorted(["https://data.example/d12", "https://data.example/d03", "https://data.example/d20"],
                      key=list(everything).index)  # id order, as the pages list them
    assert [d["@id"] for d in listed(anonymous)] == expected
    assert listed(anonymous) == [everything[i] for i in expected]
    async with http.post(f"{provider.public}/dsp/catalog/request", json=request()) as response:
        page = await response.json()
    assert {k: v for k, v in anonymous.items() if k != "dataset"} == {k: v for k, v in page.items() if k != "dataset"}

    async with as_member(member, "POST", url, json=request(selecting(picked))) as response:
        assert response.status == 200, await response.text()
        by_member, tag = await response.json(), response.headers["ETag"]
    assert {d["@id"] for d in listed(by_member)} == {*expected, hidden_iri}
    assert listed(by_member) == [d for i, d in everything.items() if i in {*expected, hidden_iri}]
    async with as_member(member, "POST", url, json=request(selecting(picked)), headers={"If-None-Match": tag}) as response:
        assert response.status == 412 and response.headers["ETag"] == tag


@pytest.mark.parametrize("selection,says", [
    (selecting([f"https://data.example/n{n}" for n in range(1001)]), "at most 1000 datasets"),
    (selecting("https://data.example/d01"), "a list of dataset IRIs"),
    (selecting([1, 2]), "a list of dataset IRIs"),
    ({"@type": SELECTION}, "a list of dataset IRIs"),
])
async def test_a_bad_dsp_selection_is_refused_with_a_clear_sentence(world, selection, says):
    provider, member, http, hidden_iri = world
    async with http.post(f"{provider.public}/dsp/catalog/request", json=request(selection)) as response:
        assert response.status == 400
        error = await response.json()
    assert error["@type"] == "CatalogError" and says in str(error)


# ---------------------------------------------------------------------------- export selection


def triples(data: bytes) -> set:
    return {t for t in ox.parse(data, ox.RdfFormat.N_TRIPLES) if not isinstance(t.object, ox.BlankNode)}


async def test_an_export_selection_holds_those_public_datasets_only(world):
    provider, member, http, hidden_iri = world
    accept = {"Accept": "application/n-triples"}
    async with http.get(f"{provider.public}/catalog?limit=500", headers=accept) as response:
        everything = triples(await response.read())
    picked = ["https://data.example/d05", "https://data.example/d18", hidden_iri, "https://nowhere.example/y"]
    url = f"{provider.public}/catalog"
    async with http.get(url, params=[("dataset", i) for i in picked] + [("limit", "1")], headers=accept) as response:
        assert response.status == 200, await response.text()
        assert "Link" not in response.headers
        selected, tag = triples(await response.read()), response.headers["ETag"]
    catalog = ox.NamedNode(f"{provider.public}/catalog")
    listed_ = {t.object.value for t in selected if t.subject == catalog and t.predicate.value.endswith("#dataset")}
    assert listed_ == {"https://data.example/d05", "https://data.example/d18"}
    about = {t for t in selected if t.subject.value in listed_}
    assert about and about <= everything and about == {t for t in everything if t.subject.value in listed_}
    assert not any("hydra" in t.predicate.value for t in selected)
    async with http.get(url, params=[("dataset", i) for i in picked], headers={**accept, "If-None-Match": tag}) as response:
        assert response.status == 304 and response.headers["ETag"] == tag
    async with http.get(url, params=[("dataset", i) for i in picked[:2]], headers={**accept, "If-None-Match": tag}) as response:
        assert response.status == 304  # the same datasets: hidden and unknown ones change nothing
    async with http.get(url, params=[("dataset", i) for i in picked[:1]], headers={**accept, "If-None-Match": tag}) as response:
        assert response.status == 200 and response.headers["ETag"] != tag

    too_many = [("dataset", f"https://data.example/n{n}") for n in range(101)]
    async with http.get(url, params=too_many) as response:
        assert response.status == 400 and "at most 100 datasets" in await response.text()


# ---------------------------------------------------------------------------- the stores


def dataset(n: int, access: Access = Access.PUBLIC) -> Dataset:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Dataset(id=f"id{(n * 7) % 10:02}", iri=f"https://s.example/{n}", title=f"D{n}", publisher="did:web:s.example",
                   access=access, offers=(), issued=now, modified=now)


@pytest.mark.parametrize("kind", [*database_backends(), "memory"])
async def test_by_iris_reads_the_visible_ones_in_id_order_in_one_query(tmp_path, kind):
    if kind == "memory":
        await check_by_iris(InMemoryCatalogStore(), None)
        return
    async with open_test_database(kind, tmp_path) as database:
        await check_by_iris(SqlCatalogStore(database), database)


async def check_by_iris(store, database: Database | None) -> None:
    statements: list[str] = []
    await store.put_many([dataset(n, Access.MEMBERS if n == 3 else Access.PUBLIC) for n in range(10)])
    if database:
        sa.event.listen(database.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    asked = [f"https://s.example/{n}" for n in (9, 3, 1, 4, 42)] + [f"https://s.example/x{n}" for n in range(995)]
    found = await store.by_iris(frozenset({Access.PUBLIC}), asked)
    assert [d.iri for d in found] == ["https://s.example/9", "https://s.example/1", "https://s.example/4"]  # id order
    assert found[1] == dataset(1)
    if database:
        assert len(statements) == 1  # one query for a thousand IRIs
    everyone = await store.by_iris(frozenset(Access), asked)
    assert "https://s.example/3" in {d.iri for d in everyone}
    hashes = await store.hashes(frozenset({Access.PUBLIC}), iris=asked)
    assert hashes == [(d.iri, d.fingerprint()) for d in found]
    assert await store.by_iris(frozenset(Access), []) == []
