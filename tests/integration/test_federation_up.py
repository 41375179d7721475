"""`communs federation up | status | down` as a user runs them: real child processes (three
connectors, three validators) on loopback, driven from other processes as from other shells."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench.bench_ledger_restart import free_base
from connector.federation.create import LEDGER_OFFSET
from connector.selfdescription.digest import claims_digest

ORGS = 3


def communs(*argv: str, timeout: float = 120, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector.cli.main", *argv], text=True,
                          capture_output=True, timeout=timeout, cwd=cwd)


def status(folder: Path) -> tuple[int, dict[str, str]]:
    done = communs("federation", "status", "--dir", str(folder), "--json")
    return done.returncode, {p["name"]: p["state"] for p in json.loads(done.stdout)["processes"]}


def payload(jwt: str) -> dict:
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fed") / "federation"
    base = free_base(LEDGER_OFFSET + 2 * ORGS)
    # a folder relative to where the command runs, as `make run` gives it
    done = communs("federation", "up", "--dir", folder.name, "--orgs", str(ORGS),
                   "--base-port", str(base), "--detach", "--json", cwd=folder.parent)
    assert done.returncode == 0, done.stderr
    yield folder, json.loads(done.stdout)
    communs("federation", "down", "--dir", str(folder))


def test_up_creates_organizations_each_with_connector_and_validator(federation) -> None:
    folder, shown = federation
    members = shown["members"]
    assert len(members) == ORGS and len({m["did"] for m in members}) == ORGS
    for member in members:
        # each connector serves its own DID document; each token file is private
        with urllib.request.urlopen(member["publicUrl"] + "/.well-known/did.json",
                                    timeout=5) as response:
            assert json.loads(response.read())["id"] == member["did"]
        assert os.stat(member["tokenFile"]).st_mode & 0o077 == 0
    code, states = status(folder)
    assert code == 0 and set(states.values()) == {"ready"} and len(states) == 2 * ORGS
    # the genesis lists every organization as a founding member, with its endpoint
    registry = communs("ledger", "registry", "members", "--dir",
                       str(folder / "city" / "validator"), "--json")
    assert registry.returncode == 0, registry.stderr
    listed = {m["did"]: m for m in json.loads(registry.stdout)["members"]}
    assert set(listed) == {m["did"] for m in members}
    for member in members:
        with urllib.request.urlopen(member["publicUrl"] + "/self-description",
                                    timeout=5) as response:
            served = response.read().decode()
        # the digest of the claims, recomputed from the credentials the endpoint serves
        enveloped = payload(served)["verifiableCredential"]
        credentials = [payload(e["id"].partition(",")[2]) for e in enveloped]
        assert listed[member["did"]]["sd_hash"] == claims_digest(credentials)
        assert listed[member["did"]]["endpoint"] == member["publicUrl"]


def test_a_killed_child_is_reported_and_restarted_by_up(federation) -> None:
    folder, _ = federation
    run = json.loads((folder / "run.json").read_text())
    os.kill(run["children"]["acme connector"][0], signal.SIGKILL)
    time.sleep(0.3)
    code, states = status(folder)
    assert code == 1 and states["acme connector"] == "stopped"
    assert states["city connector"] == "ready"
    again = communs("federation", "up", "--dir", str(folder), "--detach", "--json")
    assert again.returncode == 0, again.stderr
    code, states = status(folder)
    assert code == 0 and states["acme connector"] == "ready"
    # the other processes were adopted, not started twice
    after = json.loads((folder / "run.json").read_text())["children"]
    assert after["city connector"] == run["children"]["city connector"]
    assert after["acme connector"] != run["children"]["acme connector"]


def test_foreground_up_stops_everything_in_order_on_ctrl_c(federation) -> None:
    folder, _ = federation
    assert communs("federation", "down", "--dir", str(folder)).returncode == 0
    code, states = status(folder)
    assert code == 1 and set(states.values()) == {"stopped"}
    up = subprocess.Popen([sys.executable, "-m", "connector.cli.main", "federation", "up",
                           "--dir", str(folder)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while status(folder)[0] != 0:
            assert up.poll() is None and time.monotonic() < deadline, up.stderr.read()
            time.sleep(0.3)
        pids = [p[0] for p in json.loads((folder / "run.json").read_text())["children"].values()]
        said = ""
        while "serving" not in said:  # the supervising `up` has seen everything ready too
            line = up.stderr.readline()
            assert line, "up ended before serving"
            said += line
        up.send_signal(signal.SIGINT)
        out, err = up.communicate(timeout=60)
    finally:
        up.kill()
    assert up.returncode == 0, err
    assert "ready" in out and "stopped" in err
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert set(status(folder)[1].values()) == {"stopped"}
    # a second up on the same folder reuses it: same DIDs, nothing created
    again = communs("federation", "up", "--dir", str(folder), "--detach", "--json")
    assert again.returncode == 0 and "created" not in again.stderr


def test_refusals_are_clear_and_change_nothing(federation, tmp_path) -> None:
    folder, _ = federation
    other = communs("federation", "up", "--dir", str(folder), "--orgs", "5", "--detach")
    assert other.returncode == 1 and "holds a federation of 3 organizations" in other.stderr
    (tmp_path / "stray.txt").write_text("x")
    stray = communs("federation", "up", "--dir", str(tmp_path), "--detach")
    assert stray.returncode == 1 and "holds files but no federation" in stray.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stray.txt"]
    missing = communs("federation", "status", "--dir", str(tmp_path / "none"))
    assert missing.returncode == 1 and "holds no federation" in missing.stderr
    bad = communs("federation", "up", "--dir", str(tmp_path / "new"), "--orgs", "0")
    assert bad.returncode == 1 and "--orgs must be between" in bad.stderr
    assert not (tmp_path / "new").exists()
