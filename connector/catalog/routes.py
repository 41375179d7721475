"""HTTP bindings of the catalog: DSP 2025-1 (version, catalog request, dataset), the DCAT-AP
export on /catalog (public app) and the management API on /api/v1/datasets.

DSP endpoints answer errors as DSP CatalogError messages themselves (the app's middleware
would write problem+json); every message we send is built to the vendored schemas.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web

from connector import strictjson
from connector.auth.caller import caller_of
from connector.auth.profiles import SUPPORTED_PROFILES
from connector.catalog import codec, export, formats, schemas, selection
from connector.catalog.model import Access, summary
from connector.catalog.resources import CATALOG, DSP_PATH
from connector.catalog.selection import View
from connector.catalog.service import MAX_IMPORT_BYTES, CatalogService
from connector.errors import ConnectorError, Reason
from connector.request import json_body

try:  # the auth feature marks routes that anonymous callers may use
    from connector.auth.middleware import allow_anonymous
except ImportError:  # pragma: no cover - before the auth feature lands

    def allow_anonymous(handler):  # type: ignore[no-untyped-def]
        return handler


public = web.RouteTableDef()
management = web.RouteTableDef()
DEFAULT_PAGE, MAX_PAGE = 100, 500
MAX_METADATA_BYTES = 64 * 1024  # an upload's metadata part
JSON = "application/json"
T = TypeVar("T")


def _service(request: web.Request) -> CatalogService:
    return request.config_dict[CATALOG]


def _dsp_error(status: int, reason: str) -> web.Response:
    return web.json_response(codec.error_json(status, reason), status=status)


def _paging(request: web.Request) -> tuple[int, int]:
    try:
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", str(DEFAULT_PAGE)))
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, "offset and limit must be integers") from None
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise ConnectorError(Reason.BAD_INPUT, f"offset must be >= 0 and limit between 1 and {MAX_PAGE}")
    return offset, limit


def _links(base: str, offset: int, limit: int, total: int) -> dict[str, str]:
    links = {"self": f"{base}?offset={offset}&limit={limit}", "first": f"{base}?offset=0&limit={limit}"}
    if offset + limit < total:
        links["next"] = f"{base}?offset={offset + limit}&limit={limit}"
    if offset > 0:
        links["previous"] = f"{base}?offset={max(0, offset - limit)}&limit={limit}"
    last = max(0, (total - 1) // limit * limit)
    links["last"] = f"{base}?offset={last}&limit={limit}"
    return links


async def _page_tag(service: CatalogService, caller: Any, what: str, media: str, view: View,
                    extra: str = "") -> str:
    """The ETag of a page or selection, from the content hashes of what CALLER may see of it
    (no dataset loaded)."""
    window, total = await service.fingerprints(caller, view)
    return export.page_tag(what=what, media=media, levels=sorted(service.levels_for(caller)), offset=view.offset,
                           limit=view.limit, window=window, total=total, extra=extra)


def _link_header(links: dict[str, str]) -> str:
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if rel != "self")


# ---------------------------------------------------------------------------- DSP


@public.get("/.well-known/dspace-version")
async def dspace_version(request: web.Request) -> web.Response:
    service = _service(request)
    body = {
        "protocolVersions": [
            {
                "version": "2025-1",
                "path": DSP_PATH,
                "binding": "HTTPS",
                "identifierType": "did:web",
                "serviceId": service.did,
                "auth": {"protocol": "DCP", "version": "1.0", "profile": list(SUPPORTED_PROFILES)},
            }
        ]
    }
    return web.json_response(body)


def _catalog_body(service: CatalogService, datasets: list) -> dict[str, Any]:
    return codec.catalog_json(
        datasets,
        catalog_id=f"{service.public_url}/catalog",
        participant=service.did,
        service_id=f"{service.public_url}{DSP_PATH}",
        endpoint=f"{service.public_url}{DSP_PATH}",
    )


@public.post(f"{DSP_PATH}/catalog/request")
@allow_anonymous
async def catalog_request(request: web.Request) -> web.Response:
    """A page of the catalog, or the datasets a crawl#Datasets filter selects (no paging)."""
    service = _service(request)
    try:
        try:
            message = strictjson.loads(await request.read())
        except ValueError as exc:
            return _dsp_error(400, f"the body is not valid JSON: {exc}")
        if errors := schemas.problems(schemas.CATALOG_REQUEST, message):
            return _dsp_error(400, "not a CatalogRequestMessage: " + "; ".join(errors))
        view = _view(request, selection.from_filter(message.get("filter")))
        caller = caller_of(request)
        extra = json.dumps(message.get("filter"), sort_keys=True)
        tag = await _page_tag(service, caller, "dsp", JSON, view, extra)
        if export.matches(request.headers.get("If-None-Match"), tag):
            # a POST whose precondition fails is answered 412 (RFC 9110): the page as before
            return web.Response(status=412, headers={"ETag": tag})
        datasets, total = await service.datasets(caller, view)
        same = tag == await _page_tag(service, caller, "dsp", JSON, view, extra)
    except web.HTTPRequestEntityTooLarge:
        return _dsp_error(413, "the request body is too large")
    except ConnectorError as exc:
        return _dsp_error(exc.status, str(exc))
    response = web.json_response(_catalog_body(service, datasets))
    if same:  # no change while the page was read: the tag names this body
        response.headers["ETag"] = tag
    if not view.selects and (total > view.limit or view.offset):
        links = _links(f"{service.public_url}{DSP_PATH}/catalog/request", view.offset, view.limit, total)
        response.headers["Link"] = _link_header(links)
    return response


def _view(request: web.Request, iris: tuple[str, ...] | None) -> View:
    """A selection ignores offset and limit; a page reads them from the query."""
    return View(iris=iris) if iris is not None else View(*_paging(request))


async def _manifest(request: web.Request, caller: Any, what: str) -> web.Response:
    """Each dataset CALLER may see as [IRI, content hash], in id order: from the hashes alone."""
    service = _service(request)
    pairs = await service.store.hashes(service.levels_for(caller))
    tag = export.page_tag(what=what, media=JSON, levels=sorted(service.levels_for(caller)), offset=0, limit=0,
                          window=pairs, total=len(pairs))
    headers = {"ETag": tag, "Vary": "Authorization"}
    if export.matches(request.headers.get("If-None-Match"), tag):
        return web.Response(status=304, headers=headers)
    body = selection.manifest(f"{service.public_url}/catalog", pairs)
    return web.json_response(body, headers=headers)


@public.get(f"{DSP_PATH}/catalog/manifest")
@allow_anonymous
async def dsp_manifest(request: web.Request) -> web.Response:
    try:
        return await _manifest(request, caller_of(request), "dsp-manifest")
    except ConnectorError as exc:
        return _dsp_error(exc.status, str(exc))


@public.get("/catalog/manifest")
async def public_manifest(request: web.Request) -> web.Response:
    return await _manifest(request, None, "manifest")


@public.get(DSP_PATH + "/catalog/datasets/{id:.+}")
@allow_anonymous
async def dataset(request: web.Request) -> web.Response:
    service = _service(request)
    try:
        found = await service.visible(caller_of(request), request.match_info["id"])
    except ConnectorError as exc:
        return _dsp_error(exc.status, str(exc))
    return web.json_response(codec.dataset_json(found, f"{service.public_url}{DSP_PATH}", context=True))


# ---------------------------------------------------------------------------- DCAT-AP export


@public.get("/catalog")
async def dcat_catalog(request: web.Request) -> web.Response:
    """The public catalog, a page of it or (repeated ?dataset=IRI) those datasets only."""
    service = _service(request)
    media = export.choose(request.headers.get("Accept"))
    if media is None:
        raise web.HTTPNotAcceptable(text=f"acceptable: {', '.join(export.FORMATS)}")
    view = _view(request, selection.from_query(request.query.getall("dataset", [])))
    what = "dcat-selection" if view.selects else "dcat"
    tag = await _page_tag(service, None, what, media, view)
    if export.matches(request.headers.get("If-None-Match"), tag):
        return web.Response(status=304, headers={"ETag": tag, "Vary": "Accept"})
    datasets, total = await service.datasets(None, view)  # harvesters see the public catalog
    same = tag == await _page_tag(service, None, what, media, view)
    links = {} if view.selects else _links(f"{service.public_url}/catalog", view.offset, view.limit, total)

    def render() -> bytes:
        lines = [service.ntriples(d) for d in datasets]
        text = export.catalog_ntriples(f"{service.public_url}/catalog", service.name, service.did, lines, datasets, links, total)
        return export.serialize(text, media)

    body = await asyncio.to_thread(render)
    headers = {"Vary": "Accept"}
    if links:
        headers["Link"] = _link_header(links)
    if same:  # no change while the page was read: the tag names this body
        headers["ETag"] = tag
    return web.Response(body=body, content_type=media, charset="utf-8", headers=headers)


# ---------------------------------------------------------------------------- management


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
    offset, limit = _paging(request)
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


__all__ = ["public", "management", "Access"]
