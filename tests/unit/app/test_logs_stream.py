"""Logs go to standard error as it is when a record comes: a stream that replaced it and was
closed since (a test's capture) must not turn every later record into a logging error."""

from __future__ import annotations

import io
import json
import logging
import sys

from connector.app import logs


def test_records_follow_the_current_standard_error(monkeypatch):
    earlier = io.StringIO()
    monkeypatch.setattr(sys, "stderr", earlier)
    logs.configure("INFO")
    earlier.close()  # what a test's capture does when it ends
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    logging.getLogger("communs.test").info("after the capture")
    [line] = now.getvalue().splitlines()
    assert json.loads(line)["msg"] == "after the capture"
