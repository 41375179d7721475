"""Reading request bodies with clear errors (the size cap is the app's client_max_size)."""

from __future__ import annotations

import codecs
from typing import Any

from aiohttp import web

from connector import strictjson
from connector.errors import ConnectorError, Reason

# JSON is UTF-8 (RFC 8259); RFC 7159 still allowed UTF-16 and UTF-32, and ASCII is UTF-8
UNICODE = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "ascii"})
# what a body may declare at all: Unicode and the two Western charsets clients still send
CHARSETS = UNICODE | {"iso8859-1", "cp1252"}
_PARSED: web.RequestKey[Any] = web.RequestKey("json_body", object)


def charset_of(request: web.Request, accepted: frozenset[str] = CHARSETS) -> str:
    """The codec of the body's declared charset (UTF-8 when none is); 415 unless accepted."""
    declared = request.charset
    if declared is None:
        return "utf-8"
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        name = None
    if name not in accepted:
        raise ConnectorError(Reason.UNSUPPORTED_MEDIA_TYPE, f"the charset {declared[:40]!r} is not accepted here")
    return name


async def json_body(request: web.Request) -> Any:
    """The request's JSON value, parsed once and strictly (see connector.strictjson)."""
    if _PARSED in request:
        return request[_PARSED]
    charset = charset_of(request, UNICODE)
    data = await request.read()
    try:
        value = strictjson.loads(data if charset in ("utf-8", "ascii") else data.decode(charset))
    except UnicodeDecodeError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"the body is not valid {charset} (byte {exc.start})") from None
    except ValueError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"the body is not valid JSON: {exc}") from None
    request[_PARSED] = value
    return value
