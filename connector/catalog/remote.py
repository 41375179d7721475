"""What the catalog commands send to a serving node that `connector.terminal.management.call` (JSON
in, JSON out) cannot: a file streamed as a multipart upload, a catalog file as a raw body, and
a request whose answer has no body (a 204).

Standard library only, like `call`: a command that talks to the node starts fast.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from connector.answers import sentence
from connector.catalog.files import CHUNK, Source
from connector.config import read_token
from connector.errors import ConnectorError, Reason
from connector.terminal.common import config, home

DATASETS = "/api/v1/datasets"
IMPORT = "/api/v1/catalog/import"
TIMEOUT = 120  # seconds without progress, in either direction
MAX_ERROR_BYTES = 64 * 1024


def upload(args: argparse.Namespace, source: Source, metadata: dict[str, Any]) -> Any:
    """Publish SOURCE (an opened, checked file, closed here) with METADATA as an upload."""
    boundary = uuid.uuid4().hex
    name = source.path.name
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n'
        "Content-Type: application/json\r\n\r\n"
        f"{json.dumps(metadata)}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f"filename=\"{_ascii(name)}\"; filename*=utf-8''{quote(name)}\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        with os.fdopen(source.fd, "rb") as file:
            yield head
            left = source.size  # what Content-Length announced, even if the file grows
            while left and (chunk := file.read(min(CHUNK, left))):
                left -= len(chunk)
                yield chunk
            yield tail

    kind = f"multipart/form-data; boundary={boundary}"
    return send(args, "POST", DATASETS, body(), kind, len(head) + source.size + len(tail))


def send(
    args: argparse.Namespace, method: str, path: str,
    body: bytes | Iterator[bytes] | None = None, content_type: str | None = None, length: int = 0,
) -> Any:
    """METHOD PATH on the node's management API with BODY (LENGTH bytes): its JSON answer (None
    when it has none, as a 204 does), or its problem as a ConnectorError with one sentence."""
    base = config(args).management_url
    headers = {"Authorization": f"Bearer {read_token(home(args))}", "Accept": "application/json"}
    if body is not None:
        headers.update({"Content-Type": content_type or "application/octet-stream", "Content-Length": str(length)})
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)
    try:
        try:
            connection.request(method, path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the node stopped reading to refuse the request: its answer says why
        response = connection.getresponse()
        answer = response.read(MAX_ERROR_BYTES if response.status >= 300 else None)
    except (OSError, http.client.HTTPException) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConnectorError(Reason.BAD_INPUT, f"cannot reach the node at {base} (is it serving?): {why}") from None
    finally:
        connection.close()
    if response.status >= 300:
        raise ConnectorError(_reason(answer), sentence(response.status, answer))
    try:
        return json.loads(answer) if answer.strip() else None
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, f"the node at {base} did not answer JSON") from None


def _reason(answer: bytes) -> Reason:
    """The problem's own reason: its title (BAD_INPUT when it has none we know)."""
    try:
        return Reason(json.loads(answer)["title"])
    except (ValueError, KeyError, TypeError):
        return Reason.BAD_INPUT


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
