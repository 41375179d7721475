"""Publishing, updating, withdrawing and filtering: the catalog service on the in-memory store."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from connector.auth.caller import Caller
from connector.catalog.model import Access
from connector.catalog.service import CatalogService
from connector.catalog.store import InMemoryCatalogStore
from connector.errors import ConnectorError, Reason

DID = "did:web:provider.example"
MEMBER = Caller("did:web:c.example", ({"type": ["VerifiableCredential", "MembershipCredential"]},))


class RecordingSink:
    def __init__(self) -> None:
        self.graphs: dict[str, str] = {}

    async def replace(self, iri: str, ntriples: str) -> None:
        self.graphs[iri] = ntriples

    async def remove(self, iri: str) -> None:
        self.graphs.pop(iri, None)


@pytest.fixture
def folders(tmp_path):
    home, src = tmp_path / "home", tmp_path / "src"
    home.mkdir()
    src.mkdir()
    (src / "air.csv").write_text("station,pm10\nA,12\n")
    return home, src


@pytest.fixture
def sink():
    return RecordingSink()


@pytest.fixture
def service(folders, sink):
    home, src = folders
    return CatalogService(
        InMemoryCatalogStore(), home=home, did=DID, public_url="https://p.example",
        trust_anchors=("did:web:anchor.example",), allowed_roots=[src], sink=sink, max_file_bytes=1000,
    )


async def test_publish_copies_the_file_with_size_and_hash_and_mirrors_it(service, folders, sink):
    home, src = folders
    d = await service.publish(str(src / "air.csv"), title="Air quality 2025", keywords=["air"],
                              license="https://www.etalab.gouv.fr/licence-ouverte-open-licence")
    [dist] = d.distributions
    copy = home / "data" / dist.file
    assert copy.read_bytes() == (src / "air.csv").read_bytes()
    assert dist.byte_size == copy.stat().st_size
    assert dist.checksum == hashlib.sha256(copy.read_bytes()).hexdigest()
    assert dist.media_type == "text/csv"
    assert d.access is Access.PUBLIC and d.publisher == DID
    [offer] = d.offer_documents()
    assert offer["@type"] == "Offer" and offer["assigner"] == DID and "target" not in offer
    assert "Air quality 2025" in sink.graphs[d.iri]
    assert (await service.get(d.id)) == d


async def test_a_remote_source_is_registered_without_a_copy(service, folders):
    d = await service.publish("https://data.example/air.csv", title="Remote")
    assert d.distributions[0].access_url == "https://data.example/air.csv"
    assert not (folders[0] / "data").exists()


@pytest.mark.parametrize("bad", ["https://user:pw@x.example/f", "ftp://x.example/f", "https://"])
async def test_bad_remote_urls_are_refused(service, bad):
    with pytest.raises(ConnectorError):
        await service.publish(bad, title="x")


async def test_path_tricks_are_refused_and_change_nothing(service, folders, tmp_path):
    home, src = folders
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", src / "link.csv")
    os.symlink(tmp_path, src / "dirlink")
    os.mkfifo(src / "fifo.csv")
    (src / "big.csv").write_bytes(b"x" * 1001)
    for bad in [str(tmp_path / "secret.txt"), str(src / ".." / "secret.txt"), str(src / "link.csv"),
                str(src / "dirlink" / "secret.txt"), str(src / "fifo.csv"), str(src),
                "/dev/zero", str(src / "missing.csv"), str(src / "big.csv")]:
        with pytest.raises(ConnectorError) as caught:
            await service.publish(bad, title="x")
        assert caught.value.reason in (Reason.BAD_INPUT, Reason.TOO_LARGE), bad
    assert await service.list() == []
    assert not any((home / "data").rglob("*")) if (home / "data").exists() else True


async def test_members_policy_hides_the_dataset_from_anonymous_callers(service, folders, sink):
    d = await service.publish(str(folders[1] / "air.csv"), title="Members only", policy="members")
    assert d.access is Access.MEMBERS and d.iri not in sink.graphs
    assert (await service.page(None, 10, 0)) == ([], 0)
    assert (await service.page(Caller("did:web:stranger.example"), 10, 0)) == ([], 0)
    assert (await service.page(MEMBER, 10, 0))[1] == 1
    with pytest.raises(ConnectorError) as caught:
        await service.visible(None, d.iri)
    assert caught.value.reason is Reason.NOT_FOUND
    assert (await service.visible(MEMBER, d.iri)).id == d.id
    assert "did:web:anchor.example" in json.dumps(d.offer_documents())


async def test_a_policy_file_becomes_the_offer(service, folders, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({
        "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "uid": "http://x.example/p1",
        "permission": [{"action": "use", "constraint": [
            {"leftOperand": "purpose", "operator": "eq", "rightOperand": {"@id": "http://x.example/research"}}]}],
    }))
    d = await service.publish(str(folders[1] / "air.csv"), title="Research", policy=str(policy))
    [offer] = d.offer_documents()
    assert offer["@type"] == "Offer" and offer["@id"] != "http://x.example/p1"
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(ConnectorError):
        await service.publish(str(folders[1] / "air.csv"), title="x", policy=str(broken))


async def test_update_and_withdraw(service, folders, sink):
    home, src = folders
    d = await service.publish(str(src / "air.csv"), title="Air")
    updated = await service.update(d.id, title="Air 2025", keywords=["pm10"])
    assert updated.title == "Air 2025" and updated.keywords == ("pm10",)
    assert "Air 2025" in sink.graphs[d.iri]
    hidden = await service.update(d.id, policy="members")
    assert hidden.access is Access.MEMBERS and d.iri not in sink.graphs
    await service.withdraw(d.id)
    assert not (home / "data" / d.distributions[0].file).exists()
    with pytest.raises(ConnectorError) as caught:
        await service.get(d.id)
    assert caught.value.reason is Reason.NOT_FOUND
    with pytest.raises(ConnectorError):
        await service.withdraw(d.id)


async def test_bad_titles_are_refused(service, folders):
    for title in ["", "   ", "a\x00b", "x" * 1001]:
        with pytest.raises(ConnectorError):
            await service.publish(str(folders[1] / "air.csv"), title=title)


async def test_resync_mirrors_every_public_dataset(service, folders):
    await service.publish(str(folders[1] / "air.csv"), title="A")
    await service.publish(str(folders[1] / "air.csv"), title="B", policy="members")
    fresh = RecordingSink()
    service.sink = fresh
    assert await service.resync(batch=1) == 1 and len(fresh.graphs) == 1


def test_the_fixture_folder_is_absolute(folders):
    assert Path(folders[1]).is_absolute()


async def test_bad_licences_are_refused_on_publish_and_update(service, folders):
    d = await service.publish("https://data.example/a.csv", title="A", license="urn:x:ok")
    for bad in ["not an iri", "nocolon", 'https://x.example/"><script>']:
        with pytest.raises(ConnectorError):
            await service.publish("https://data.example/a.csv", title="A", license=bad)
        with pytest.raises(ConnectorError):
            await service.update(d.id, license=bad)
    assert len(await service.list()) == 1 and (await service.get(d.id)).license == "urn:x:ok"
