"""Structured logs: the ledger's JSON lines (ledger.logs), with the request id when there is one."""

from __future__ import annotations

import logging
from contextvars import ContextVar

from ledger import logs as ledger_logs

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def with_request_id(record: logging.LogRecord) -> bool:
    """A handler's filter: the id of the request being served joins the record's fields."""
    if rid := request_id.get():
        record.fields = {"requestId": rid, **getattr(record, "fields", {})}
    return True


def configure(level: str = "INFO") -> None:
    ledger_logs.configure(level).addFilter(with_request_id)
    # aiohttp's own access log would duplicate ours (and print raw headers in debug)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
