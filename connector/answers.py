"""What another server's error answer says, in one sentence, for a message of ours.

An error answer is an RFC 9457 problem (our management API), a DSP error message (a provider),
or anything else (a proxy's HTML page). Pasting its raw body into an error message prints
JSON at the user, and lets a hostile server write control characters to their terminal.
"""

from __future__ import annotations

import json
from typing import Any

MAX_CHARS = 300


def sentence(status: int, body: bytes | str) -> str:
    """The problem's detail (or title), the DSP error's reasons (or code), or the first line
    of text; `HTTP STATUS` when the answer says nothing readable."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if data is not None:
        return parsed_sentence(status, data)
    return _printable(_first_line(text)) or f"HTTP {status}"


def parsed_sentence(status: int, data: Any) -> str:
    """`sentence` of an answer already parsed as JSON."""
    return _printable(_said(data)) or f"HTTP {status}"


def _said(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    for key in ("detail", "title", "message", "error"):  # problem+json first
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key]
    reasons = data.get("reason")  # a DSP error: reasons are strings or objects
    reasons = reasons if isinstance(reasons, list) else [reasons]
    words = [_text(r) for r in reasons]
    said = "; ".join(w for w in words if w)
    code = data.get("code")
    return said or (f"error code {code}" if isinstance(code, str | int) else "")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("@value", "message", "description"):
            if isinstance(value.get(key), str):
                return value[key]
    return ""


def _first_line(text: str) -> str:
    if text.lstrip().startswith("<"):  # an HTML or XML page: its first line says nothing
        return ""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _printable(text: str) -> str:
    clean = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return clean if len(clean) <= MAX_CHARS else clean[: MAX_CHARS - 1] + "…"
