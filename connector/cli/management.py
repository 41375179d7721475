"""The CLI's calls to the running node's management API, with the token in the node's folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import aiohttp

from connector.cli.common import config, home
from connector.config import read_token
from connector.errors import ConnectorError, Reason


async def call(args: argparse.Namespace, method: str, path: str, body: Any = None,
               params: dict | None = None, into: Path | None = None) -> Any:
    """The JSON answer of METHOD PATH (or the body streamed INTO a file); an error answer or
    an unreachable node is a ConnectorError with one sentence."""
    base = config(args).management_url.rstrip("/")
    headers = {"Authorization": f"Bearer {read_token(home(args))}"}
    # no total limit: a long poll or a big download may take long, but never silently
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=120)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.request(method, base + path, json=body, params=params, headers=headers) as response:
                if response.status >= 300:
                    data = await response.json(content_type=None)
                    detail = data.get("detail") if isinstance(data, dict) else None
                    reason = Reason.NOT_FOUND if response.status == 404 else Reason.BAD_INPUT
                    raise ConnectorError(reason, detail or f"the node answered {response.status}")
                if into is None:
                    return await response.json(content_type=None)
                with into.open("wb") as handle:
                    async for chunk in response.content.iter_chunked(1 << 20):
                        handle.write(chunk)
                return None
    except (aiohttp.ClientError, ValueError) as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"cannot reach the node at {base} (is it serving?): {exc}") from None
