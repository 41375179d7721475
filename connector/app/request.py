"""Reading request bodies with clear errors (the size cap is the app's client_max_size)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from connector.errors import ConnectorError, Reason


async def json_body(request: web.Request) -> Any:
    text = await request.text()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"the body is not valid JSON: {exc}") from None
