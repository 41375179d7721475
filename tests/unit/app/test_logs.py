"""Log lines: one JSON object a line, the ledger's and a node's alike (so one tool reads both),
a node's with the id of the request it is serving."""

from __future__ import annotations

import json
import logging

import pytest

from connector.app import logs
from ledger import logs as ledger_logs


@pytest.fixture(autouse=True)
def root(monkeypatch):
    """configure() sets up the process's logging: only for the test that calls it."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)


def logged(capsys, **fields) -> dict:
    logging.getLogger("communs.test").info("served %s", "it", extra={"fields": fields})
    [line] = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry.pop("ts")
    return entry


def test_the_ledger_logs_a_record_s_fields(capsys):
    ledger_logs.configure()
    assert logged(capsys, height=3) == {"level": "info", "logger": "communs.test",
                                        "msg": "served it", "height": 3}


def test_a_node_logs_the_ledger_s_lines_with_the_request_id(capsys):
    logs.configure()
    assert logged(capsys, status=200) == {"level": "info", "logger": "communs.test",
                                          "msg": "served it", "status": 200}
    token = logs.request_id.set("r-1")
    try:
        assert logged(capsys, status=200) == {"level": "info", "logger": "communs.test",
                                              "msg": "served it", "requestId": "r-1",
                                              "status": 200}
    finally:
        logs.request_id.reset(token)
