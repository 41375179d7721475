"""JSON from other parties: UTF-8, bounded nesting, and strings that are real Unicode.

`json.loads` lets through three things that fail later, far from the input, as a 500:
nesting deep enough to exhaust the stack (in the parser, or in whatever walks the value next:
schema validators, JSON-LD, our own recursive code), lone surrogates ("\\ud800" decodes, but
no UTF-8 encoder writes it back, so the database, a signature or a response fails), and NaN or
Infinity (not JSON at all). Each is refused here, as a ValueError like any malformed JSON.
"""

from __future__ import annotations

import json
from typing import Any

# Real documents (DSP messages, ODRL policies, credentials, self-descriptions) nest about 15
# levels; 64 leaves room and keeps any recursive walker far from Python's stack limit.
MAX_DEPTH = 64


class BadJson(ValueError):
    """Not JSON we accept; the message is a clause ("it nests deeper than 64 levels")."""


def loads(data: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The value of a JSON text (bytes must be UTF-8), or BadJson."""
    if isinstance(data, bytes | bytearray):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJson(f"it is not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(data, parse_constant=_not_json)
    except RecursionError:
        raise BadJson(f"it nests deeper than {max_depth} levels") from None
    except BadJson:
        raise
    except ValueError as exc:
        raise BadJson(str(exc)) from None
    check(value, max_depth)
    return value


def check(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """BadJson if `value` nests deeper than `max_depth` or holds a lone surrogate."""
    if isinstance(value, str):
        _unicode(value)
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:  # a loop, not recursion: the point is not to depend on the stack
        container, depth = pending.pop()
        if depth > max_depth:
            raise BadJson(f"it nests deeper than {max_depth} levels")
        if isinstance(container, dict):
            for key in container:
                _unicode(key)
            container = container.values()
        for item in container:
            if isinstance(item, str):
                _unicode(item)
            elif isinstance(item, dict | list):
                pending.append((item, depth + 1))


def _unicode(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadJson(f"it holds a lone surrogate (\\u{ord(text[exc.start]):04x}), "
                          "which is not Unicode text") from None


def _not_json(constant: str) -> Any:
    raise BadJson(f"{constant} is not a JSON value")
