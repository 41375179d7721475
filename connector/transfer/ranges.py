"""Which part of the data a data-plane request gets (RFC 9110 section 14): the byte range to
honour, or none (the whole representation, 200).

A Range the data plane does not support (several ranges, another unit, a malformed or
backwards range) is ignored, as RFC 9110 section 14.2 requires: no 416 for those. An If-Range
whose validator is not an exact match of the current one (the strong ETag, or the very
Last-Modified date) also means the whole representation (section 13.1.5). What is left is
one byte range, answered with 206, or with 416 when it starts past the end.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

_ONE_RANGE = re.compile(r"bytes=(\d+-\d*|-\d+)", re.ASCII | re.IGNORECASE)


def _matches(validator: str, etag: str | None, modified: int | None) -> bool:
    """Whether an If-Range VALIDATOR names the current representation (weak tags never do)."""
    if validator.startswith(("W/", '"')):
        return etag is not None and validator == etag
    try:
        date = parsedate_to_datetime(validator)
    except (TypeError, ValueError):
        return False
    return modified is not None and date.tzinfo is not None and int(date.timestamp()) == modified


def applicable(range_header: str | None, if_range: str | None, *, etag: str | None = None,
               modified: int | None = None) -> str | None:
    """The Range header to honour (`bytes=...`), or None to send everything. ETAG (quoted,
    as sent) and MODIFIED (Unix seconds) describe the current representation; without them
    no If-Range matches."""
    if range_header is None:
        return None
    found = _ONE_RANGE.fullmatch(range_header.strip())
    if found is None:
        return None
    first, _, last = found.group(1).partition("-")
    if first and last and int(last) < int(first):
        return None
    if if_range is not None and not _matches(if_range.strip(), etag, modified):
        return None
    return f"bytes={found.group(1)}"


def resumes(applied: str | None) -> bool:
    """Whether a request with that honoured Range continues an earlier download (it starts
    past byte 0) rather than being a new access."""
    first = applied.removeprefix("bytes=").partition("-")[0] if applied else ""
    return first != "" and int(first) > 0
