"""HTTP bindings of the catalog: DSP 2025-1 (version, catalog request, dataset), the manifests
and the DCAT-AP export on /catalog (public app); the management API (`management`) is in
management_routes.py.

DSP endpoints answer errors as DSP CatalogError messages themselves (the app's middleware
would write problem+json); every message we send is built to the vendored schemas.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from connector import strictjson
from connector.auth.caller import caller_of
from connector.auth.profiles import SUPPORTED_PROFILES
from connector.catalog import codec, export, schemas, selection
from connector.catalog.management_routes import management
from connector.catalog.model import Access
from connector.catalog.resources import CATALOG, DSP_PATH
from connector.catalog.selection import View
from connector.catalog.service import CatalogService
from connector.errors import ConnectorError

try:  # the auth feature marks routes that anonymous callers may use
    from connector.auth.middleware import allow_anonymous
except ImportError:  # pragma: no cover - before the auth feature lands

    def allow_anonymous(handler):  # type: ignore[no-untyped-def]
        return handler


public = web.RouteTableDef()
JSON = "application/json"


def _service(request: web.Request) -> CatalogService:
    return request.config_dict[CATALOG]


def _dsp_error(status: int, reason: str) -> web.Response:
    return web.json_response(codec.error_json(status, reason), status=status)


async def _page_tag(service: CatalogService, caller: Any, what: str, media: str, view: View,
                    extra: str = "") -> str:
    """The ETag of a page or selection, from the content hashes of what CALLER may see of it
    (no dataset loaded)."""
    window, total = await service.fingerprints(caller, view)
    return export.page_tag(what=what, media=media, levels=sorted(service.levels_for(caller)), offset=view.offset,
                           limit=view.limit, window=window, total=total, extra=extra)


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
        links = selection.links(f"{service.public_url}{DSP_PATH}/catalog/request", view.offset, view.limit, total)
        response.headers["Link"] = selection.link_header(links)
    return response


def _view(request: web.Request, iris: tuple[str, ...] | None) -> View:
    """A selection ignores offset and limit; a page reads them from the query."""
    return View(iris=iris) if iris is not None else View(*selection.paging(request.query))


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
    links = {} if view.selects else selection.links(f"{service.public_url}/catalog", view.offset, view.limit, total)

    def render() -> bytes:
        lines = [service.ntriples(d) for d in datasets]
        text = export.catalog_ntriples(f"{service.public_url}/catalog", service.name, service.did, lines, datasets, links, total)
        return export.serialize(text, media)

    body = await asyncio.to_thread(render)
    headers = {"Vary": "Accept"}
    if links:
        headers["Link"] = selection.link_header(links)
    if same:  # no change while the page was read: the tag names this body
        headers["ETag"] = tag
    return web.Response(body=body, content_type=media, charset="utf-8", headers=headers)


__all__ = ["public", "management", "Access"]
