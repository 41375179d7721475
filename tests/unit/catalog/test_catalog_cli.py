"""`communs publish`, `import-dcat` and `datasets ...` on a real node folder (in-process)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pytest

from connector.catalog import cli
from connector.errors import ConnectorError, Reason
from tests.nodes import init_node

CATALOG = b"""
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://d.example/ok> a dcat:Dataset ; dct:title "Ok" ; dct:description "fine" .
<https://d.example/bad> a dcat:Dataset ; dct:title "No description" .
"""


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", default=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    root = argparse.ArgumentParser(prog="communs")
    root.add_argument("--dir", default=None)
    root.add_argument("--json", action="store_true", default=False)
    cli.register(root.add_subparsers(dest="command", required=True), common)
    return root


def run(capsys, *argv: str) -> tuple[int, object]:
    args = parser().parse_args(list(argv))
    code = args.func(args)
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv else out


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("data").mkdir()
    Path("data/air-quality.csv").write_text("station,pm10\nA,12\n")
    return init_node(tmp_path / "node")


def test_publish_update_list_withdraw(home, capsys):
    code, shown = run(capsys, "publish", "data/air-quality.csv", "--title", "Air quality 2025", "--keyword", "air",
                      "--keyword", "pm10", "--license", "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
                      "--policy", "open", "--dir", str(home), "--json")
    assert code == 0 and shown["title"] == "Air quality 2025" and shown["keywords"] == ["air", "pm10"]
    copy = home / "data" / shown["distributions"][0]["file"]
    assert copy.read_text() == "station,pm10\nA,12\n"
    code, updated = run(capsys, "datasets", "update", shown["id"], "--policy", "members", "--dir", str(home), "--json")
    assert code == 0 and updated["access"] == "members"
    code, listed = run(capsys, "datasets", "list", "--dir", str(home), "--json")
    assert [d["id"] for d in listed] == [shown["id"]]
    code, _ = run(capsys, "datasets", "withdraw", shown["id"], "--dir", str(home), "--json")
    assert code == 0 and not copy.exists()
    assert run(capsys, "datasets", "list", "--dir", str(home), "--json")[1] == []


def test_the_operators_shell_publishes_any_file_it_can_read(home, capsys, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.csv"
    outside.write_text("x\n")
    try:
        code, shown = run(capsys, "publish", str(outside), "--title", "Outside", "--dir", str(home), "--json")
        assert code == 0 and (home / "data" / shown["distributions"][0]["file"]).read_text() == "x\n"
        os.symlink(outside, "data/link.csv")  # resolved, then checked where it really is
        code, shown = run(capsys, "publish", "data/link.csv", "--title", "Linked", "--dir", str(home), "--json")
        assert code == 0 and shown["distributions"][0]["file"].endswith(f"/{outside.name}")
    finally:
        outside.unlink()
    for bad in ["/dev/null", str(tmp_path / "missing.csv"), str(tmp_path)]:
        with pytest.raises(ConnectorError) as caught:
            run(capsys, "publish", bad, "--title", "x", "--dir", str(home))
        assert caught.value.reason is Reason.BAD_INPUT


def test_publish_never_takes_the_nodes_own_secrets(home, capsys, tmp_path):
    shutil.copy(home / "keys" / "ed25519.jwk", "key-backup.json")
    shutil.copy(home / "management.token", "token.txt")
    for secret in [home / "keys" / "ed25519.jwk", home / "management.token", home / "communs.db",
                   home / "communs.toml", Path("key-backup.json"), Path("token.txt")]:
        with pytest.raises(ConnectorError) as caught:
            run(capsys, "publish", str(secret), "--title", "x", "--dir", str(home))
        assert caught.value.reason is Reason.FORBIDDEN, secret
    assert run(capsys, "datasets", "list", "--dir", str(home), "--json")[1] == []
    assert sorted(p.name for p in (home / "data").rglob("*")) == []


def test_import_dcat_reports_every_finding_and_exits_0_when_something_was_imported(home, capsys, tmp_path):
    path = tmp_path / "catalog.ttl"
    path.write_bytes(CATALOG)
    code, report = run(capsys, "import-dcat", str(path), "--dir", str(home), "--json")
    assert code == 0 and report["created"] == ["https://d.example/ok"]
    assert report["rejected"][0]["iri"] == "https://d.example/bad"
    code, report = run(capsys, "import-dcat", str(path), "--dir", str(home), "--json")
    assert report["unchanged"] == ["https://d.example/ok"] and report["created"] == []
    code, text = run(capsys, "import-dcat", str(path), "--dir", str(home))
    assert code == 0 and "1 dataset imported" in text and "1 rejected" in text
    assert "https://d.example/bad" in text and "description" in text  # the rejection, with its reason
    for iri, warnings in report["warnings"].items():  # and every warning
        assert all(w.split(":")[0] in text for w in warnings) and iri in text
    assert run(capsys, "import-dcat", str(path), "--strict", "--dir", str(home))[0] == 1
    only_bad = tmp_path / "bad.ttl"
    only_bad.write_bytes(CATALOG.replace(b'<https://d.example/ok> a dcat:Dataset ; dct:title "Ok" ; dct:description "fine" .', b""))
    assert run(capsys, "import-dcat", str(only_bad), "--dir", str(home), "--json")[0] == 1  # nothing imported


def test_import_dcat_says_what_is_wrong_with_a_file(home, capsys, tmp_path):
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("this is not rdf at all\n")
    with pytest.raises(ConnectorError, match="the format of garbage.txt is not recognised; DCAT files are read as Turtle"):
        run(capsys, "import-dcat", str(garbage), "--dir", str(home))
    with pytest.raises(ConnectorError, match="cannot read"):
        run(capsys, "import-dcat", str(tmp_path / "missing.ttl"), "--dir", str(home))
