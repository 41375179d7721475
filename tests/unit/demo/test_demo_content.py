"""What the demo publishes and runs: the compute-only offer asks the price the ledger's market
reads and names the demo's algorithm; the CSV files parse; the algorithm, run as the sandbox
runs it (input and output folders from the environment), returns only aggregates."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

from connector.demo import content
from connector.ledger.market import price_of
from connector.negotiation.codec import agreement_policy
from policies import terms as T


def test_the_offer_is_compute_only_of_the_demo_algorithm_at_its_price() -> None:
    offer = content.compute_only_paid_offer()
    assert price_of(offer) == content.PRICE
    policy = agreement_policy(offer)
    (permission,) = policy.permissions
    assert [a.iri for a in permission.actions] == [T.COMPUTE]
    algorithms = [c for c in permission.constraints if c.left == T.communs("algorithm")]
    assert [r.value for r in algorithms[0].right] == [content.algorithm_hash()]
    assert content.algorithm_hash() != content.algorithm_hash(content.ALGORITHM + "#")


def test_the_files_parse_and_the_algorithm_returns_aggregates_only(tmp_path) -> None:
    files = content.write(tmp_path / "run")
    bicycles = list(csv.DictReader(io.StringIO(files["bicycles"].read_text())))
    assert len(bicycles) == 6 * 16 and all(int(r["bicycles"]) > 0 for r in bicycles)
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir(), outputs.mkdir()
    (inputs / "sessions.csv").write_text(files["charging"].read_text())
    subprocess.run([sys.executable, str(files["algorithm"])], check=True, env={
        **os.environ, "COMMUNS_INPUT": str(inputs), "COMMUNS_OUTPUT": str(outputs)})
    result = json.loads((outputs / content.RESULT_FILE).read_text())
    assert sorted(result) == sorted(name for name, _ in content.DEPOTS)
    rows = list(csv.DictReader(io.StringIO(files["charging"].read_text())))
    assert sum(r["sessions"] for r in result.values()) == sum(int(r["sessions"]) for r in rows)
    assert all(set(r) == {"sessions", "kwh_per_session"} for r in result.values())
