"""The CLI contract: exit codes, one-sentence errors, --json, nothing written on bad input."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import time

import pytest

from connector.cli.main import main
from tests.nodes import init_node


def communs(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "connector.cli.main", *argv],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def test_init_writes_config_keys_and_token_with_tight_permissions(tmp_path):
    folder = init_node(tmp_path / "node")
    assert (folder / "communs.toml").is_file()
    for path in [folder / "management.token", *(folder / "keys").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((folder / "keys").stat().st_mode) == 0o700


IDENTITY = {"--name": "ACME", "--url": "http://127.0.0.1:8181", "--country": "FR-75",
            "--registration-number": "vatID:FR32123456789"}


def init_argv(folder, **changes: str) -> list[str]:
    options = {**IDENTITY, **{f"--{k.replace('_', '-')}": v for k, v in changes.items()}}
    return ["init", "--dir", str(folder), *(x for pair in options.items() for x in pair)]


def test_init_refuses_an_existing_node_and_keeps_it(tmp_path):
    folder = init_node(tmp_path / "node")
    before = (folder / "communs.toml").read_text()
    assert main(init_argv(folder, name="X", url="http://127.0.0.1:9")) == 1
    assert (folder / "communs.toml").read_text() == before


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("country", "France", "ISO 3166-2"),
        ("registration_number", "IBAN:123", "TYPE:VALUE"),
        ("url", "ftp://example.org", "http(s)"),
    ],
)
def test_bad_init_input_is_one_sentence_exit_1_and_writes_nothing(tmp_path, option, value, message):
    folder = tmp_path / "node"
    result = communs(*init_argv(folder, **{option: value}))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not folder.exists()


def test_init_names_the_missing_identity_options_up_front(tmp_path):
    folder = tmp_path / "node"
    result = communs("init", "--dir", str(folder), "--name", "ACME", "--url", "http://127.0.0.1:8181")
    assert result.returncode == 2
    assert "--country" in result.stderr and "--registration-number" in result.stderr
    assert not folder.exists()
    shown = communs("init", "--help").stdout
    assert "[--country" not in shown and "[--registration-number" not in shown  # not optional


def test_usage_errors_exit_2():
    assert communs("init", "--name", "only").returncode == 2
    assert communs("no-such-command").returncode == 2


def test_commands_without_a_node_say_how_to_make_one(tmp_path):
    result = communs("did", "show", "--dir", str(tmp_path / "none"))
    assert result.returncode == 1 and "communs init" in result.stderr


def test_bad_config_file_is_named_with_the_field(tmp_path):
    folder = init_node(tmp_path / "node")
    config = folder / "communs.toml"
    config.write_text(config.read_text().replace("port = ", "port = -", 1))
    result = communs("did", "show", "--dir", str(folder))
    assert (
        result.returncode == 1
        and "communs.toml" in result.stderr
        and "out of range" in result.stderr
    )
    config.write_text("[node\nname=")
    result = communs("did", "show", "--dir", str(folder))
    assert result.returncode == 1 and "not valid TOML" in result.stderr


def test_did_show_json_before_or_after_the_subcommand(tmp_path):
    folder = init_node(tmp_path / "node")
    for argv in (
        ["--json", "did", "show", "--dir", str(folder)],
        ["did", "show", "--dir", str(folder), "--json"],
    ):
        result = communs(*argv)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["id"].startswith("did:web:127.0.0.1%3A")


def test_corrupted_key_store_is_a_clear_error(tmp_path):
    folder = init_node(tmp_path / "node")
    key = next((folder / "keys").iterdir())
    key.write_text("{garbage")
    result = communs("did", "show", "--dir", str(folder))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert str(key.name) in result.stderr


def test_passphrase_protected_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMUNS_PASSPHRASE", "correct horse battery staple")
    folder = init_node(tmp_path / "node")
    assert b"correct horse" not in b"".join(p.read_bytes() for p in (folder / "keys").iterdir())
    env = dict(os.environ, COMMUNS_PASSPHRASE="wrong")
    result = subprocess.run(
        [sys.executable, "-m", "connector.cli.main", "did", "show", "--dir", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1 and "passphrase" in result.stderr.lower()


def test_catalog_of_an_unreachable_provider_is_one_sentence(tmp_path):
    result = communs("catalog", "http://127.0.0.1:9", "--dir", str(tmp_path))
    assert result.returncode == 1 and "cannot reach http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_serve_new_database_starts_afresh_where_the_database_was_lost(tmp_path, capsys, monkeypatch):
    folder = init_node(tmp_path / "node")
    (folder / "data").mkdir()  # the node was used: a lost database must not pass unnoticed
    (folder / "communs.db").unlink()
    root = logging.getLogger()  # serve sets up this process's logging: only for this test
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    assert main(["serve", "--dir", str(folder)]) == 1
    assert "--new-database" in capsys.readouterr().err
    server = subprocess.Popen([sys.executable, "-m", "connector.cli.main", "serve", "--new-database",
                               "--dir", str(folder)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (folder / "communs.db").exists():
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
