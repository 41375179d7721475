"""The CLI's calls to the running node's management API, with the token in the node's folder.

The standard library's http.client keeps these commands quick to start (importing aiohttp
alone costs a quarter of a second, asyncio a tenth). `request` is the call; `call` is the same
for coroutines, run in a daemon thread so that Ctrl-C ends the command at once, even during
a long poll.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from connector.answers import sentence
from connector.config import read_token
from connector.errors import ConnectorError, Reason
from connector.terminal.common import config, home

CONNECT_SECONDS = 10
READ_SECONDS = 120  # a long poll or a big download may take long, but never silently
MAX_ERROR_BYTES = 64 * 1024
_BY_STATUS = {401: Reason.UNAUTHORIZED, 403: Reason.FORBIDDEN, 404: Reason.NOT_FOUND,
              409: Reason.CONFLICT, 413: Reason.TOO_LARGE}


def request(args: argparse.Namespace, method: str, path: str, body: Any = None,
            params: dict | None = None, into: Path | None = None, text: str | None = None) -> Any:
    """The JSON answer of METHOD PATH to a JSON BODY (or a plain TEXT body), or the answer
    streamed INTO a file; an error answer or an unreachable node is a ConnectorError with
    one sentence."""
    base = config(args).management_url
    token = read_token(home(args))
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    data = None
    if text is not None:
        data, headers["Content-Type"] = text.encode(), "text/plain; charset=utf-8"
    elif body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    target = path + (f"?{urlencode(params)}" if params else "")
    return _send(base, method, target, data, headers, into)


async def call(args: argparse.Namespace, method: str, path: str, body: Any = None,
               params: dict | None = None, into: Path | None = None,
               text: str | None = None) -> Any:
    """`request` for coroutines."""
    import asyncio  # already imported by whoever runs a coroutine

    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def settle(result: Any, failure: BaseException | None) -> None:
        if done.done():  # cancelled by Ctrl-C: nobody waits for it any more
            return
        if failure is None:
            done.set_result(result)
        else:
            done.set_exception(failure)

    def work() -> None:
        try:
            result, failure = request(args, method, path, body, params, into, text), None
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
            result, failure = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, failure)
        except RuntimeError:  # the loop has closed: the command is over
            pass

    threading.Thread(target=work, daemon=True).start()
    return await done


def serving(args: argparse.Namespace) -> bool:
    """Whether the node in the folder is serving: something listens on its management port
    (commands then go through its API, so the running node sees every change at once)."""
    cfg = config(args)
    try:
        with socket.create_connection((cfg.management_host, cfg.management_port), timeout=1):
            return True
    except OSError:
        return False


def _send(base: str, method: str, target: str, data: bytes | None, headers: dict[str, str],
          into: Path | None) -> Any:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port,
                                            timeout=CONNECT_SECONDS)
    try:
        connection.connect()
        connection.sock.settimeout(READ_SECONDS)
        connection.request(method, target, body=data, headers=headers)
        response = connection.getresponse()
        if response.status >= 300:
            raise _refusal(response.status, response.read(MAX_ERROR_BYTES))
        if into is not None:
            _save(response, into)
            return None
        try:
            return json.loads(response.read())
        except ValueError:
            raise ConnectorError(Reason.BAD_INPUT, f"{base} did not answer JSON") from None
    except (OSError, http.client.HTTPException) as exc:
        why = (exc.strerror or str(exc)) if isinstance(exc, OSError) else type(exc).__name__
        raise ConnectorError(Reason.BAD_INPUT,
                             f"cannot reach the node at {base} (is it serving?): {why}") from None
    finally:
        connection.close()


def _save(response: http.client.HTTPResponse, path: Path) -> None:
    """Stream the answer into PATH: a failed write is our disk's fault, not the node's."""
    try:
        with path.open("wb") as handle:
            while chunk := response.read(1 << 20):  # network errors go to the caller
                handle.write(chunk)
    except OSError as exc:
        if isinstance(exc, TimeoutError | ConnectionError):
            raise
        raise ConnectorError(Reason.BAD_INPUT, f"cannot write {path}: {exc.strerror}") from None


def _refusal(status: int, body: bytes) -> ConnectorError:
    """The node's problem+json answer as an error with its own reason and one sentence."""
    try:
        title = json.loads(body).get("title")
        reason = Reason(title)
    except (ValueError, AttributeError, TypeError):
        reason = _BY_STATUS.get(status, Reason.BAD_INPUT)
    return ConnectorError(reason, sentence(status, body))
