"""The conformance-only static callers ([auth] static_callers): off unless configured, and
then only the exact configured token is that participant; any other is refused as before."""

from __future__ import annotations

import dataclasses
import os
import secrets

import pytest

from connector.cli.main import main
from connector.config import StaticCaller, load, save
from tests.nodes import client, init_node, serving

CTX = ["https://w3id.org/dspace/2025/1/context.jsonld"]
REQUEST = {"@context": CTX, "@type": "CatalogRequestMessage"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return init_node(tmp_path_factory.mktemp("static"))


async def _catalog(node, token: str) -> int:
    async with client() as http, http.post(f"{node.public}/dsp/catalog/request", json=REQUEST,
                                           headers={"Authorization": token}) as r:
        return r.status


def _write_token(path, token: str, mode: int = 0o600) -> None:
    path.write_text(token)
    os.chmod(path, mode)


async def test_static_callers_are_off_by_default(folder):
    assert "auth" not in (folder / "communs.toml").read_text()
    assert load(folder).static_callers == ()
    token = secrets.token_urlsafe(32)
    _write_token(folder / "tck.token", token)  # a token file alone enables nothing
    async with serving(folder) as node:
        assert await _catalog(node, token) == 401


@pytest.fixture
def configured(tmp_path):
    return init_node(tmp_path / "node")


async def test_a_configured_token_is_its_participant_and_a_wrong_one_is_refused(configured):
    folder = configured
    token = secrets.token_urlsafe(32)
    _write_token(folder / "tck.token", token)
    save(dataclasses.replace(load(folder), static_callers=(StaticCaller("TCK_PARTICIPANT", "tck.token"),)))
    assert load(folder).static_callers == (StaticCaller("TCK_PARTICIPANT", "tck.token"),)
    async with serving(folder) as node:
        assert await _catalog(node, token) == 200
        assert await _catalog(node, f"Bearer {token}") == 200
        assert await _catalog(node, token[:-1] + ("A" if token[-1] != "A" else "B")) == 401
        assert await _catalog(node, secrets.token_urlsafe(32)) == 401


def test_a_token_file_readable_by_others_or_too_short_stops_the_node(tmp_path, capsys):
    folder = init_node(tmp_path / "node")
    save(dataclasses.replace(load(folder), static_callers=(StaticCaller("TCK_PARTICIPANT", "tck.token"),)))
    _write_token(folder / "tck.token", secrets.token_urlsafe(32), 0o644)
    assert main(["serve", "--dir", str(folder)]) != 0
    assert "chmod 600" in capsys.readouterr().err
    os.remove(folder / "tck.token")
    _write_token(folder / "tck.token", "short")
    assert main(["serve", "--dir", str(folder)]) != 0
    assert "shorter than 32" in capsys.readouterr().err


def test_a_malformed_static_callers_table_is_a_clear_config_error(tmp_path, capsys):
    folder = init_node(tmp_path / "node")
    with (folder / "communs.toml").open("a") as toml:
        toml.write('\n[auth]\nstatic_callers = ["TCK_PARTICIPANT"]\n')
    with pytest.raises(Exception, match="static_callers must be a list"):
        load(folder)


def test_two_callers_with_one_token_are_refused(tmp_path, capsys):
    folder = init_node(tmp_path / "node")
    token = secrets.token_urlsafe(32)
    for name in ("a.token", "b.token"):
        _write_token(folder / name, token)
    save(dataclasses.replace(load(folder), static_callers=(
        StaticCaller("TCK_A", "a.token"), StaticCaller("TCK_B", "b.token"))))
    assert main(["serve", "--dir", str(folder)]) != 0
    assert "have the same token" in capsys.readouterr().err
