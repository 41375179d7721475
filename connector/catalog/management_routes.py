"""The catalog's management API (management app, behind the node's token): datasets on
/api/v1/datasets (publish from a path, a URL or an upload; change; withdraw) and DCAT imports
on /api/v1/catalog/import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web

from connector import strictjson
from connector.catalog import formats
from connector.catalog.model import summary
from connector.catalog.resources import CATALOG
from connector.catalog.selection import paging
from connector.catalog.service import MAX_IMPORT_BYTES, CatalogService
from connector.errors import ConnectorError, Reason
from connector.request import json_body

management = web.RouteTableDef()
MAX_METADATA_BYTES = 64 * 1024  # an upload's metadata part
T = TypeVar("T")


def _service(request: web.Request) -> CatalogService:
    return request.config_dict[CATALOG]


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ConnectorError(Reason.BAD_INPUT, f"{key} must be a string")
    return value


def _keywords(body: dict) -> list[str] | None:
    value = body.get("keywords")
    if value is not None and (not isinstance(value, list) or not all(isinstance(k, str) for k in value)):
        raise ConnectorError(Reason.BAD_INPUT, "keywords must be a list of strings")
    return value


def _policy(body: dict) -> str | dict | None:
    value = body.get("policy")
    if value is not None and not isinstance(value, str | dict):
        raise ConnectorError(Reason.BAD_INPUT, "policy must be open, members, a policy file's path or an ODRL policy object")
    return value


def _metadata(body: dict) -> dict[str, Any]:
    """What publish takes besides the source, from a JSON object."""
    title = _text(body, "title")
    if not title:
        raise ConnectorError(Reason.BAD_INPUT, "title is required")
    return {
        "title": title, "description": _text(body, "description"), "keywords": _keywords(body) or (),
        "license": _text(body, "license"), "policy": _policy(body) or "open",
    }


async def _object(request: web.Request) -> dict:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ConnectorError(Reason.BAD_INPUT, "the body must be a JSON object")
    return body


async def _body(request: web.Request, cap: int) -> bytes:
    """The whole body, up to CAP bytes (which may be above the app's client_max_size)."""
    if request.content.at_eof():  # already read (the app's JSON check): aiohttp keeps it
        return await request.read()
    if request.content_length is not None and request.content_length > cap:
        raise ConnectorError(Reason.TOO_LARGE, f"the body is above the {cap} bytes limit")
    data = bytearray()
    async for chunk in request.content.iter_chunked(1 << 20):
        data += chunk
        if len(data) > cap:
            raise ConnectorError(Reason.TOO_LARGE, f"the body is above the {cap} bytes limit")
    return bytes(data)


@management.get("/api/v1/datasets")
async def list_datasets(request: web.Request) -> web.Response:
    offset, limit = paging(request.query)
    items = await _service(request).list(limit, offset)
    return web.json_response({"items": [summary(d) for d in items], "offset": offset, "limit": limit})


@management.post("/api/v1/datasets")
async def publish(request: web.Request) -> web.Response:
    """JSON {source, title, ...}: a file the node may read or an http(s) source; or
    multipart/form-data: a `metadata` part (that JSON without source) then a `file` part."""
    if request.content_type == "multipart/form-data":
        found = await _upload(request)
    else:
        body = await _object(request)
        source = _text(body, "source")
        if not source:
            raise ConnectorError(Reason.BAD_INPUT, "source and title are required")
        found = await _service(request).publish(source, **_metadata(body))
    return web.json_response(summary(found), status=201)


async def _upload(request: web.Request) -> Any:
    service = _service(request)
    cap = service.max_upload_bytes
    if request.content_length is not None and request.content_length > cap + MAX_METADATA_BYTES:
        raise ConnectorError(Reason.TOO_LARGE, f"the upload is above the {cap} bytes limit")
    reader = await _multipart(request.multipart())
    part = await _multipart(reader.next())
    if not isinstance(part, BodyPartReader) or part.name != "metadata":
        raise ConnectorError(Reason.BAD_INPUT, "the first part must be `metadata`: a JSON object with title, description, keywords, license, policy")
    text = bytearray()
    while chunk := await _multipart(part.read_chunk()):
        text += chunk
        if len(text) > MAX_METADATA_BYTES:
            raise ConnectorError(Reason.TOO_LARGE, f"the metadata part is above {MAX_METADATA_BYTES} bytes")
    try:
        metadata = strictjson.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"the metadata part is not valid JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise ConnectorError(Reason.BAD_INPUT, "the metadata part must be a JSON object")
    checked = _metadata(metadata)
    part = await _multipart(reader.next())
    if not isinstance(part, BodyPartReader) or part.name != "file" or not part.filename:
        raise ConnectorError(Reason.BAD_INPUT, "the second part must be `file`, with a file name")
    file = part

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await _multipart(file.read_chunk(1 << 20)):
            yield chunk
        if not file.at_eof():  # the body ended without the part's closing boundary
            raise ConnectorError(Reason.BAD_INPUT, "the upload ended in the middle of its file part")

    return await service.publish_upload(file.filename or "", chunks(), **checked)


async def _multipart(step: Awaitable[T]) -> T:
    try:
        return await step
    except (ValueError, AssertionError) as exc:  # how aiohttp's multipart reader says malformed
        raise ConnectorError(Reason.BAD_INPUT, f"the body is not a well-formed multipart/form-data upload ({exc})") from None


@management.get("/api/v1/datasets/{id}")
async def get_dataset(request: web.Request) -> web.Response:
    return web.json_response(summary(await _service(request).get(request.match_info["id"])))


@management.patch("/api/v1/datasets/{id}")
async def update_dataset(request: web.Request) -> web.Response:
    body = await _object(request)
    found = await _service(request).update(
        request.match_info["id"], title=_text(body, "title"), description=_text(body, "description"),
        keywords=_keywords(body), license=_text(body, "license"), policy=_policy(body),
    )
    return web.json_response(summary(found))


@management.delete("/api/v1/datasets/{id}")
async def withdraw_dataset(request: web.Request) -> web.Response:
    await _service(request).withdraw(request.match_info["id"])
    return web.Response(status=204)


_IMPORT_FORMATS = {**{media: fmt for fmt, media in formats.MEDIA_TYPES.items()}, "application/json": "json-ld"}


@management.post("/api/v1/catalog/import")
async def import_dcat(request: web.Request) -> web.Response:
    fmt = _IMPORT_FORMATS.get(request.content_type)
    if fmt is None:
        accepted = ", ".join(sorted(_IMPORT_FORMATS))
        raise ConnectorError(Reason.BAD_INPUT, f"send the catalog with its Content-Type, one of {accepted}")
    service = _service(request)
    data = await _body(request, min(service.max_upload_bytes, MAX_IMPORT_BYTES))
    report = await service.import_dcat(data, "the catalog sent", fmt)
    return web.json_response(report.to_json())
