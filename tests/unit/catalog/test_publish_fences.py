"""What publish never takes: a node's own files, hard links to them, and keys or tokens by
content, whoever asks (the operator's shell, with no allow-list, or the management API)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from connector.catalog import files
from connector.catalog.service import CatalogService
from connector.catalog.store import InMemoryCatalogStore
from connector.errors import ConnectorError, Reason

TOKEN = b"t0ken-" + b"x" * 40
PRIVATE_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "Bhi1x5VeZCVWAWx0q9M9HkH7sK2Ig-ENqAwFD4f7JPo",
               "d": "XUf6zmY6rYW1sW0vk0qS80DWwWtcM5o1MFJMD3QluMQ"}
PEM = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIF1H+s5mOq2FtbFtL5NKvNA1sFrXLjmTNTBSQw95C5DE\n-----END PRIVATE KEY-----\n"


def node_folder(path: Path) -> Path:
    """A node's folder as `communs init` leaves it (what the fences look at)."""
    (path / "keys").mkdir(parents=True)
    (path / "data").mkdir()
    (path / "communs.toml").write_text('[node]\nname = "N"\n')
    (path / "keys" / "ed25519.jwk").write_text(json.dumps(PRIVATE_JWK))
    (path / "management.token").write_bytes(TOKEN)
    (path / "communs.db").write_bytes(b"SQLite format 3\x00")
    (path / "data" / "open.csv").write_text("a\n1\n")
    return path


@pytest.fixture
def layout(tmp_path):
    home = node_folder(tmp_path / "node")
    other = node_folder(tmp_path / "other-node")
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.csv").write_text("a\n1\n")
    return home, other, src


def service(home: Path, roots: list[Path] | None) -> CatalogService:
    return CatalogService(InMemoryCatalogStore(), home=home, did="did:web:p.example", public_url="https://p.example",
                          allowed_roots=roots, secrets=(TOKEN,))


async def refused(catalog: CatalogService, path: Path | str) -> str:
    with pytest.raises(ConnectorError) as caught:
        await catalog.publish(str(path), title="x")
    assert caught.value.reason is Reason.FORBIDDEN, (path, caught.value)
    return str(caught.value)


def copies(home: Path) -> list[Path]:
    """What publish left in the node's data/ besides the fixture's own file."""
    return [p for p in (home / "data").rglob("*") if p.name != "open.csv"]


@pytest.mark.parametrize("operator", [True, False])
async def test_no_file_of_a_node_folder_is_published_but_its_data(layout, tmp_path, operator):
    home, other, src = layout
    catalog = service(home, None if operator else [tmp_path])  # the API's allow-list holds them all
    for secret in [home / "keys" / "ed25519.jwk", home / "management.token", home / "communs.db",
                   home / "communs.toml", other / "keys" / "ed25519.jwk", other / "communs.db"]:
        assert "node folder" in await refused(catalog, secret)
    (src / "innocent.csv").symlink_to(home / "communs.db")  # symlinks resolve before the check
    assert "node folder" in await refused(catalog, src / "innocent.csv")
    assert "node folder" in await refused(catalog, home / "data" / ".." / "communs.db")
    assert copies(home) == [] and await catalog.list() == []
    published = await catalog.publish(str(home / "data" / "open.csv"), title="Open")
    assert published.distributions[0].byte_size == 4


async def test_a_hard_link_passes_only_when_every_name_is_where_files_may_come_from(layout, tmp_path):
    home, _, src = layout
    catalog = service(home, [src])
    os.link(home / "communs.db", src / "stats.csv")  # a second name for the node's database
    assert "hard links" in await refused(catalog, src / "stats.csv")
    os.link(src / "ok.csv", tmp_path / "elsewhere.csv")  # another name outside the allow-list
    assert "hard links" in await refused(catalog, src / "ok.csv")
    os.unlink(tmp_path / "elsewhere.csv")
    os.link(src / "ok.csv", src / "same.csv")  # both names in an allowed folder: fine
    assert (await catalog.publish(str(src / "same.csv"), title="Same")).distributions[0].byte_size == 4
    operator = service(home, None)  # the operator's shell: the names are looked for around the file
    assert "hard links" in await refused(operator, src / "stats.csv")


@pytest.mark.parametrize("content", [
    json.dumps(PRIVATE_JWK).encode(),
    json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "secret"}]}).encode(),
    b"name,key\nsigning," + PEM.replace(b"\n", b" ") + b"\n",
    b"id,value\n1," + TOKEN + b"\n",
    b"x" * (files.CHUNK - 10) + PEM,  # the marker straddles two chunks
    b"y" * (files.CHUNK - 20) + TOKEN,
], ids=["jwk", "jwks", "pem", "token", "pem-across-chunks", "token-across-chunks"])
async def test_keys_and_tokens_are_refused_by_content_wherever_they_sit(layout, content):
    home, _, src = layout
    (src / "export.csv").write_bytes(content)
    catalog = service(home, [src])
    assert "never published" in await refused(catalog, src / "export.csv")
    assert copies(home) == [] and await catalog.list() == []


async def test_a_public_key_is_published(layout):
    home, _, src = layout
    public = {k: v for k, v in PRIVATE_JWK.items() if k != "d"}
    (src / "public.jwk").write_text(json.dumps(public))
    published = await service(home, [src]).publish(str(src / "public.jwk"), title="Our public key")
    assert (home / "data" / published.distributions[0].file).read_text() == json.dumps(public)


async def test_an_upload_is_fenced_like_a_copy(layout):
    home, _, _ = layout
    catalog = service(home, [])

    async def chunks(*parts: bytes):
        for part in parts:
            yield part

    with pytest.raises(ConnectorError) as caught:
        await catalog.publish_upload("key.json", chunks(json.dumps(PRIVATE_JWK).encode()), title="x")
    assert caught.value.reason is Reason.FORBIDDEN
    with pytest.raises(ConnectorError) as caught:
        await catalog.publish_upload("t.csv", chunks(b"a," + TOKEN[:10], TOKEN[10:] + b"\n"), title="x")
    assert caught.value.reason is Reason.FORBIDDEN
    for bad in ["", ".hidden", "a\x00b", "x" * 256]:
        with pytest.raises(ConnectorError):
            await catalog.publish_upload(bad, chunks(b"a\n"), title="x")
    assert copies(home) == [] and await catalog.list() == []
    stored = await catalog.publish_upload("../../up.csv", chunks(b"a\n", b"1\n"), title="Up")
    assert (home / "data" / stored.distributions[0].file).read_bytes() == b"a\n1\n"
    assert stored.distributions[0].file.endswith("/up.csv")
