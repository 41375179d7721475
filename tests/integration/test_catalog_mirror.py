"""The catalog's mirror in /sparql on a real node: changes made with the CLI while the node serves
reach it at once, and its bookkeeping is never visible to a public query (restarts: see
tests/unit/catalog/test_catalog_mirror.py)."""

from __future__ import annotations

import asyncio
import json

import pytest

from connector.cli.main import main
from tests.nodes import client, init_node, serving

TITLES = """PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?t WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> ; dct:title ?t }"""
BOOKKEEPING = """SELECT ?g ?s ?p ?o WHERE {
  { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o }
  FILTER(CONTAINS(STR(?g), "catalog-mirror") || CONTAINS(STR(?s), "catalog-mirror")
         || CONTAINS(STR(?p), "catalog-mirror"))
}"""
CATALOG = b"""@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<https://d.example/imported> a dcat:Dataset ; dct:title "Imported" ; dct:description "d" ."""


@pytest.fixture
def node_dir(tmp_path):
    return init_node(tmp_path / "node")


async def sparql(http, node, query: str) -> list[dict]:
    params = {"query": query}
    async with http.get(f"{node.public}/sparql", params=params, headers={"Accept": "application/sparql-results+json"}) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["results"]["bindings"]


async def titles(http, node) -> set[str]:
    return {row["t"]["value"] for row in await sparql(http, node, TITLES)}


async def communs(capsys, *argv: str) -> dict:
    """The CLI in a thread (its own event loop), so that the node in this one keeps serving."""
    capsys.readouterr()
    assert await asyncio.to_thread(main, [*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


async def test_cli_changes_reach_sparql_at_once_and_its_bookkeeping_stays_private(node_dir, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"  # neither the node's folder nor the working folder
    elsewhere.mkdir()
    (elsewhere / "air quality é.csv").write_text("station,pm10\nA,12\n")
    (elsewhere / "catalog.ttl").write_bytes(CATALOG)
    home = ["--dir", str(node_dir)]
    async with serving(node_dir) as node, client() as http:
        published = await communs(capsys, "publish", str(elsewhere / "air quality é.csv"), "--title", "Air", *home)
        assert (node_dir / "data" / published["distributions"][0]["file"]).read_text() == "station,pm10\nA,12\n"
        assert published["distributions"][0]["file"].endswith("/air quality é.csv")
        assert await titles(http, node) == {"Air"}
        await communs(capsys, "import-dcat", str(elsewhere / "catalog.ttl"), *home)
        await communs(capsys, "datasets", "update", published["id"], "--title", "Air 2025", *home)
        assert await titles(http, node) == {"Air 2025", "Imported"}
        await communs(capsys, "datasets", "withdraw", published["id"], *home)
        assert await titles(http, node) == {"Imported"}
        assert [d["title"] for d in await communs(capsys, "datasets", "list", *home)] == ["Imported"]
        assert await sparql(http, node, BOOKKEEPING) == []
