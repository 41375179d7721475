"""`communs demo` as a user runs it: `federation up --detach` in a temporary folder (three
organizations, each a real connector and a real validator process), then the demo's six steps
through the real CLI, its --json record and exit code checked, then `federation down`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bench_ledger_restart import free_base
from connector.demo.content import PRICE
from connector.federation.create import LEDGER_OFFSET
from connector.federation.layout import Federation, Member

ORGS = 3
# seconds: the demo promises a minute (about 30 s here when the machine is idle); a CI
# machine running other tests beside it gets half as much again
DEMO_BUDGET = 90.0
STEPS = 6


def communs(*argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector.cli.main", *argv], text=True,
                          capture_output=True, timeout=timeout)


def demo(folder: Path) -> tuple[int, dict]:
    done = communs("demo", "--dir", str(folder), "--json")
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"no JSON record (exit {done.returncode}): {done.stderr}") from None


def listening(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "federation"
    base = free_base(LEDGER_OFFSET + 2 * ORGS)
    done = communs("federation", "up", "--dir", str(folder), "--orgs", str(ORGS),
                   "--base-port", str(base), "--detach", "--json")
    assert done.returncode == 0, done.stderr
    yield folder
    communs("federation", "down", "--dir", str(folder))


def outcomes(record: dict) -> list[dict]:
    failed = [s for s in record["steps"] if not s["ok"]]
    assert not failed and record["ok"] is True, failed or record
    assert [s["number"] for s in record["steps"]] == list(range(1, STEPS + 1)), record
    return [s["outcome"] for s in record["steps"]]


def test_the_demo_plays_every_step_then_a_broken_step_says_which(federation) -> None:
    code, record = demo(federation)
    published, offered, computed, joined, catalog, value = outcomes(record)
    assert code == 0
    assert record["seconds"] < DEMO_BUDGET, f"the demo took {record['seconds']} s"
    # 1: open data with its DCAT-AP record, read back from the public body's SPARQL endpoint
    assert published["access"] == "public"
    assert published["record"]["title"] == published["title"]
    assert published["record"]["license"].startswith("https://www.etalab.gouv.fr/")
    assert published["record"]["mediaType"].endswith("/text/csv")
    # 2: listed on the ledger by the provider's node, at the offer's price
    assert offered["listing"]["status"] == "listed" and offered["listing"]["price"] == PRICE
    # 3: paid once, computed at the provider, the aggregate and a signed receipt back
    assert computed["state"] == "SUCCEEDED" and computed["payments"] == {"count": 1, "total": PRICE}
    assert set(computed["result"]) == {"Depot Gerland", "Depot Part-Dieu", "Depot Vaise"}
    assert computed["receipt"]["status"] == "SUCCEEDED" and computed["receipt"]["result"]["hash"]
    # 4: voted in, listed by the registry
    assert joined["status"] == "passed" and joined["registry"] == "member"
    # 5: one query over every member, this run's two datasets found with their members
    members = {m["did"] for m in catalog["members"]}
    founders = {m.did for m in Federation.load(federation).members}
    assert members >= founders | {joined["did"]}
    assert {f["dataset"] for f in catalog["found"]} == {published["iri"], offered["iri"]}
    assert catalog["registered"] == ORGS + 1 and catalog["unreachable"] == []
    # 6: what was paid was returned or extracted, to the unit
    assert value["paid"] == PRICE and value["payments"] == 1 and value["balanced"] is True
    assert value["paid"] == value["contributors"] + value["curators"] + value["extracted"]
    # the new member's node, which the demo started, was stopped when it ended
    url = catalog["endpoint"].removesuffix("/federation/sparql")
    assert not listening(url)

    # a step that fails says which and why, and the demo exits 1: here the public body's
    # management token no longer matches (its node refuses the publication)
    token = federation / "city" / "connector" / "management.token"
    kept = token.read_text()
    token.write_text("not-the-token\n")
    try:
        code, record = demo(federation)
    finally:
        token.write_text(kept)
    assert code == 1 and record["ok"] is False
    assert [(s["number"], s["ok"]) for s in record["steps"]] == [(1, False)]
    assert "communs publish" in record["steps"][0]["error"], record


@pytest.mark.slow
def test_a_second_run_on_the_same_federation_makes_new_names(federation) -> None:
    first = outcomes(demo(federation)[1])
    code, record = demo(federation)
    assert code == 0, record
    second = outcomes(record)
    assert second[0]["iri"] != first[0]["iri"] and second[1]["iri"] != first[1]["iri"]
    assert second[0]["title"] != first[0]["title"]
    assert second[3]["did"] != first[3]["did"]
    assert second[3]["proposalId"] > first[3]["proposalId"]
    # the earlier run's member no longer serves: the catalog still answers for everyone else
    assert {f["dataset"] for f in second[4]["found"]} == {second[0]["iri"], second[1]["iri"]}
    assert first[3]["did"] in second[4]["unreachable"]
    assert second[3]["did"] not in second[4]["unreachable"]


def test_without_a_federation_the_demo_says_how_to_start_one(tmp_path) -> None:
    done = communs("demo", "--dir", str(tmp_path / "nothing"))
    assert done.returncode == 1
    assert "holds no federation" in done.stderr and "communs federation up" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_stopped_federation_is_named_and_nothing_is_made(tmp_path) -> None:
    folder = tmp_path / "stopped"
    folder.mkdir()
    base = free_base(LEDGER_OFFSET + 2 * ORGS)
    members = tuple(Member(slug=f"org{i}", name=f"Org {i}", did=f"did:web:127.0.0.1%3A{base + 2 * i}",
                           public_url=f"http://127.0.0.1:{base + 2 * i}",
                           management_url=f"http://127.0.0.1:{base + 2 * i + 1}",
                           validator_address="00" * 20, account="com1none",
                           rpc_url=f"http://127.0.0.1:{base + 101 + 2 * i}") for i in range(ORGS))
    Federation(folder, "communs-local", members).save()
    done = communs("demo", "--dir", str(folder), "--json")
    assert done.returncode == 1 and done.stdout == ""
    assert "is not running" in done.stderr and "communs federation up" in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["federation.json"]
