"""What people read: tables that never cut an id, and errors in one sentence that name the
field and its valid values, never a server's raw JSON or HTML."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
import uuid

import pytest
from aiohttp import web

from connector.answers import sentence
from connector.cli.main import main
from connector.config import load, save
from connector.terminal.output import table
from tests.conftest import serving as serving_app
from tests.nodes import client, init_node, serving


def communs(*argv: str, columns: int = 80) -> subprocess.CompletedProcess:
    env = {"COLUMNS": str(columns), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "connector.cli.main", *argv],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("columns", [60, 80, 120, 250])
def test_ids_are_never_wrapped_or_cut(columns, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", str(columns))
    rows = [(uuid.uuid4().hex, "FINALIZED", f"urn:uuid:{uuid.uuid4()}", "did:web:127.0.0.1%3A8181",
             "Air quality measured in Paris in 2025 by the city's stations") for _ in range(3)]
    table("negotiations", ("id", "state", "agreement", "counterparty", "title"), rows)
    out = capsys.readouterr().out
    for row in rows:
        assert all(cell in out for cell in row[:4]), out
    assert max(len(line) for line in out.splitlines()) <= columns
    assert ("┃" in out) == (columns >= 200)  # a table where the ids fit, else one block a row


def test_a_table_whose_text_fits_stays_a_table(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    table("datasets", ("id", "title"), [("a1b2", "Air quality"), ("c3d4", "Traffic counts")])
    out = capsys.readouterr().out
    assert "┃ id" in out and "Traffic counts" in out


def test_an_invalid_choice_names_the_option_and_its_values():
    result = communs("negotiations", "list", "--state", "BOGUS")
    assert result.returncode == 2
    assert "--state" in result.stderr and "BOGUS" in result.stderr
    assert all(s in result.stderr for s in ("REQUESTED", "FINALIZED", "TERMINATED"))
    lowercase = communs("negotiations", "list", "--state", "finalized", "--dir", "/nonexistent")
    assert lowercase.returncode == 1 and "communs init" in lowercase.stderr  # accepted


@pytest.mark.parametrize("status, body, said", [
    (404, {"type": "urn:communs:problem:not-found", "title": "not-found", "status": 404,
           "detail": "no negotiation 'x'"}, "no negotiation 'x'"),
    (400, {"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
           "@type": "ContractNegotiationError", "code": "99",
           "reason": ["Catalog not provisioned for this requester."]},
     "Catalog not provisioned for this requester."),
    (400, {"@type": "CatalogError", "code": "123-A", "reason": [{"@value": "no such offer"}]},
     "no such offer"),
    (400, {"@type": "CatalogError", "code": "123-A", "reason": [{}]}, "error code 123-A"),
    (502, "<!DOCTYPE html><html><body><h1>Bad Gateway</h1></body></html>", "HTTP 502"),
    (500, "upstream failed\nat line 2", "upstream failed"),
    (400, "\x1b[31mred\x1b[0m alert\x07", "[31mred [0m alert"),
    (400, "", "HTTP 400"),
    (400, "[" * 100_000, "[" * 299 + "…"),
])
def test_an_error_answer_is_one_readable_sentence(status, body, said):
    text = body if isinstance(body, str) else json.dumps(body)
    assert sentence(status, text.encode()) == said


@pytest.fixture
def folder(tmp_path):
    return init_node(tmp_path / "node")


async def test_management_errors_are_the_problem_detail(folder):
    async with serving(folder):
        result = await asyncio.to_thread(communs, "negotiations", "show", "nope", "--dir", str(folder))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "nope" in result.stderr
    assert "{" not in result.stderr and len(result.stderr.splitlines()) == 1


async def test_an_answer_from_something_else_than_the_node_is_one_sentence(folder):
    """A proxy (or another program) on the management port: its page is not pasted, and it is
    not mistaken for an unreachable node."""
    async def page(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html><body>Bad Gateway</body></html>",
                            content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    async with serving_app(app) as url:
        config = load(folder)
        save(dataclasses.replace(config, management_port=int(url.rsplit(":", 1)[1])))
        result = await asyncio.to_thread(communs, "negotiations", "list", "--dir", str(folder))
    assert result.returncode == 1
    assert result.stderr.strip() == "error: HTTP 502"


def test_an_unreachable_node_says_so(folder):
    result = communs("negotiations", "list", "--dir", str(folder))
    assert result.returncode == 1 and "is it serving?" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def pair(tmp_path):
    return init_node(tmp_path / "provider", name="Open City"), init_node(tmp_path / "member")


async def test_negotiations_list_shows_whole_agreement_ids_at_80_columns(pair):
    provider_dir, member_dir = pair
    (provider_dir / "data").mkdir(exist_ok=True)
    (provider_dir / "data" / "air.csv").write_text("station,pm10\nA,12\n")
    async with serving(provider_dir) as provider, serving(member_dir), client() as http:
        body = {"source": str(provider_dir / "data" / "air.csv"), "title": "Air", "policy": "open"}
        async with http.post(f"{provider.management}/api/v1/datasets", json=body,
                             headers=provider.auth) as response:
            assert response.status == 201, await response.text()
            dataset = await response.json()
        argv = ["negotiate", provider.public, dataset["id"], "--wait", "--json", "--dir", str(member_dir)]
        assert await asyncio.to_thread(main, argv) == 0
        listed = await asyncio.to_thread(communs, "negotiations", "list", "--dir", str(member_dir))
        shown = await asyncio.to_thread(communs, "negotiations", "list", "--json", "--dir", str(member_dir))
    agreement = json.loads(shown.stdout)[0]["agreementId"]
    assert listed.returncode == 0 and agreement and agreement in listed.stdout
    assert json.loads(shown.stdout)[0]["id"] in listed.stdout
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80


async def test_a_providers_error_answer_is_not_pasted_raw(pair, capsys):
    provider_dir, member_dir = pair
    async with serving(provider_dir) as provider, serving(member_dir):
        capsys.readouterr()
        argv = ["negotiate", provider.public, "no-such-dataset", "--dir", str(member_dir)]
        assert await asyncio.to_thread(main, argv) == 1
    # the nodes serve in this process: their JSON log lines share its stderr with the CLI's
    said = "".join(line for line in capsys.readouterr().err.splitlines(keepends=True)
                   if not line.startswith('{"ts": '))
    assert said.startswith("error: ") and len(said.splitlines()) == 1
    assert "{" not in said and "@context" not in said, said
