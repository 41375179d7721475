"""Well-behaved jobs in the real local sandbox: Python over a CSV, SPARQL over Turtle."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from connector.compute.executor import Job, Limits
from connector.compute.sandbox import LocalSandbox, machine_cannot

SANDBOX = LocalSandbox()
LIMITS = Limits(cpu_seconds=5, wall_seconds=10, memory_bytes=512 << 20, processes=16)

# Skipped only where the machine lacks namespaces; a sandbox of ours that breaks fails here.
pytestmark = pytest.mark.skipif(
    machine_cannot(SANDBOX.isolation_problem()), reason="this machine cannot isolate jobs"
)

AGGREGATE = b"""
import csv, json, os
rows = list(csv.DictReader(open(os.path.join(os.environ["COMMUNS_INPUT"], "sales.csv"))))
total = {}
for row in rows:
    total[row["region"]] = total.get(row["region"], 0) + int(row["amount"])
out = os.environ["COMMUNS_OUTPUT"]
os.makedirs(os.path.join(out, "by"), exist_ok=True)
with open(os.path.join(out, "by", "region.json"), "w") as f:
    json.dump(total, f, sort_keys=True)
print("rows", len(rows))
"""


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "sales.csv").write_text("region,amount\nnorth,10\nsouth,5\nnorth,7\n")
    return folder


async def _run(kind: str, code: bytes, dataset: Path, tmp_path: Path, name: str = "work") -> object:
    work = tmp_path / name
    work.mkdir()
    return await SANDBOX.run(Job(kind, code, dataset, LIMITS), work)  # type: ignore[arg-type]


async def test_a_job_aggregates_a_csv_and_only_its_output_leaves(
    dataset: Path, tmp_path: Path
) -> None:
    outcome = await _run("python", AGGREGATE, dataset, tmp_path)
    assert outcome.status == "succeeded", outcome.reason + outcome.log
    assert outcome.exit_code == 0 and outcome.isolated
    result = outcome.output_dir / "by" / "region.json"
    assert json.loads(result.read_text()) == {"north": 17, "south": 5}
    assert outcome.output_bytes == result.stat().st_size
    assert outcome.output_dir.is_relative_to(tmp_path / "work")
    assert "rows 3" in outcome.log
    assert outcome.cpu_seconds > 0 and outcome.max_rss_bytes > 1 << 20 and outcome.wall_seconds > 0


async def test_the_environment_holds_only_the_two_folders(dataset: Path, tmp_path: Path) -> None:
    code = b"import os, json\nprint(json.dumps(dict(os.environ)))\nprint(os.getcwd())\n"
    outcome = await _run("python", code, dataset, tmp_path)
    assert outcome.status == "succeeded"
    env_line, cwd = outcome.log.strip().splitlines()
    assert json.loads(env_line) == {"COMMUNS_INPUT": "/input", "COMMUNS_OUTPUT": "/output"}
    assert cwd == "/tmp"


async def test_a_failing_job_is_reported_with_its_error(dataset: Path, tmp_path: Path) -> None:
    """The error is on the log, for the provider; the reason says only how the job ended."""
    outcome = await _run(
        "python", b"raise ValueError('no such column: price')\n", dataset, tmp_path
    )
    assert outcome.status == "failed"
    assert outcome.exit_code == 1
    assert outcome.reason == "the job exited with code 1"
    assert outcome.log.splitlines()[-1] == "ValueError: no such column: price"
    assert list(outcome.output_dir.iterdir()) == []


async def test_what_a_job_says_as_it_ends_stays_on_the_log(dataset: Path, tmp_path: Path) -> None:
    """A job that exits with the dataset as its message: it is on the log, not in the reason."""
    code = b"import os\nraise SystemExit(open(os.environ['COMMUNS_INPUT'] + '/sales.csv').read())\n"
    outcome = await _run("python", code, dataset, tmp_path)
    assert (outcome.status, outcome.reason) == ("failed", "the job exited with code 1")
    assert "north,10\nsouth,5\nnorth,7" in outcome.log


async def test_a_large_script_runs(dataset: Path, tmp_path: Path) -> None:
    script = b"# padding\n" * (600 << 10) + b"print('big script ran')\n"  # about 6 MiB
    outcome = await _run("python", script, dataset, tmp_path)
    assert outcome.status == "succeeded", outcome.reason
    assert outcome.log == "big script ran\n"


async def test_jobs_run_side_by_side(dataset: Path, tmp_path: Path) -> None:
    outcomes = await asyncio.gather(
        *(_run("python", AGGREGATE, dataset, tmp_path, f"w{i}") for i in range(3))
    )
    assert [o.status for o in outcomes] == ["succeeded"] * 3
    assert len({o.output_dir for o in outcomes}) == 3


TURTLE = """@prefix ex: <http://example.org/> .
ex:alice ex:knows ex:bob .
ex:bob ex:knows ex:carol .
ex:alice ex:age 31 .
"""


@pytest.fixture
def graph(tmp_path: Path) -> Path:
    folder = tmp_path / "graph"
    folder.mkdir()
    (folder / "people.ttl").write_text(TURTLE)
    (folder / "notes.txt").write_text("not RDF, skipped")
    return folder


async def test_a_sparql_select_returns_json_results(graph: Path, tmp_path: Path) -> None:
    query = b"SELECT ?a ?b WHERE { ?a <http://example.org/knows> ?b } ORDER BY ?a"
    outcome = await _run("sparql", query, graph, tmp_path)
    assert outcome.status == "succeeded", outcome.reason + outcome.log
    assert [p.name for p in outcome.output_dir.iterdir()] == ["result.srj"]
    results = json.loads((outcome.output_dir / "result.srj").read_text())
    assert results["head"]["vars"] == ["a", "b"]
    names = [
        (b["a"]["value"].rsplit("/", 1)[1], b["b"]["value"].rsplit("/", 1)[1])
        for b in results["results"]["bindings"]
    ]
    assert names == [("alice", "bob"), ("bob", "carol")]


async def test_a_sparql_construct_returns_n_triples(graph: Path, tmp_path: Path) -> None:
    query = b"CONSTRUCT { ?b <http://example.org/knownBy> ?a } WHERE { ?a <http://example.org/knows> ?b }"
    outcome = await _run("sparql", query, graph, tmp_path)
    assert outcome.status == "succeeded", outcome.reason + outcome.log
    lines = sorted((outcome.output_dir / "result.nt").read_text().strip().splitlines())
    assert lines == [
        "<http://example.org/bob> <http://example.org/knownBy> <http://example.org/alice> .",
        "<http://example.org/carol> <http://example.org/knownBy> <http://example.org/bob> .",
    ]


async def test_a_sparql_ask_answers(graph: Path, tmp_path: Path) -> None:
    outcome = await _run("sparql", b"ASK { ?s <http://example.org/age> 31 }", graph, tmp_path)
    assert json.loads((outcome.output_dir / "result.srj").read_text())["boolean"] is True


@pytest.mark.parametrize(
    "query",
    [
        b"PREFIX ex: <http://example.org/>\nINSERT DATA { ex:x ex:y ex:z }",
        b"# a comment first\nDELETE WHERE { ?s ?p ?o }",
        b"LOAD <http://example.org/data.ttl>",
    ],
)
async def test_a_sparql_update_is_refused(graph: Path, tmp_path: Path, query: bytes) -> None:
    outcome = await _run("sparql", query, graph, tmp_path)
    assert outcome.status == "failed"
    assert outcome.reason.startswith("the query was refused: SPARQL updates are not allowed")
    assert list(outcome.output_dir.iterdir()) == []


async def test_a_broken_sparql_query_is_reported(graph: Path, tmp_path: Path) -> None:
    outcome = await _run("sparql", b"SELEC ?x WHERE {}", graph, tmp_path)
    assert (outcome.status, outcome.reason) == ("failed", "the query is not valid SPARQL")
    assert outcome.log.startswith("the query is not valid SPARQL: ")  # the parser's words


async def test_a_sparql_service_call_finds_no_network(graph: Path, tmp_path: Path) -> None:
    query = b"SELECT * WHERE { SERVICE <http://127.0.0.1:8080/sparql> { ?s ?p ?o } }"
    outcome = await _run("sparql", query, graph, tmp_path)
    assert (outcome.status, outcome.reason) == ("failed", "the query could not run")
    assert outcome.log.startswith("the query could not run: ")
    assert list(outcome.output_dir.iterdir()) == []


async def test_a_sparql_job_reads_every_rdf_format(tmp_path: Path) -> None:
    folder = tmp_path / "formats"
    (folder / "sub").mkdir(parents=True)
    ex = "http://example.org/"
    (folder / "a.ttl").write_text(f"<{ex}a> <{ex}p> 1 .\n")
    (folder / "b.nt").write_text(
        f'<{ex}b> <{ex}p> "2"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    )
    (folder / "c.nq").write_text(
        f'<{ex}c> <{ex}p> "3"^^<http://www.w3.org/2001/XMLSchema#integer> <{ex}g> .\n'
    )
    (folder / "sub" / "d.rdf").write_text(
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
        '<rdf:Description rdf:about="http://example.org/d">'
        '<ex:p rdf:datatype="http://www.w3.org/2001/XMLSchema#integer">4</ex:p>'
        "</rdf:Description></rdf:RDF>"
    )
    (folder / "e.jsonld").write_text(
        json.dumps(
            {
                "@id": f"{ex}e",
                f"{ex}p": {"@value": 5, "@type": "http://www.w3.org/2001/XMLSchema#integer"},
            }
        )
    )
    query = b"SELECT (SUM(?v) AS ?total) (COUNT(?s) AS ?n) WHERE { ?s <http://example.org/p> ?v }"
    outcome = await _run("sparql", query, folder, tmp_path)
    assert outcome.status == "succeeded", outcome.reason + outcome.log
    row = json.loads((outcome.output_dir / "result.srj").read_text())["results"]["bindings"][0]
    assert (row["total"]["value"], row["n"]["value"]) == ("15", "5")
