"""Datasets: the list with paging, publishing by streamed upload, editing, withdrawing, and the
as-you-type check of an ODRL policy. Everything goes through the CatalogService."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import BodyPartReader, web

from connector.catalog.model import Access, Dataset
from connector.catalog.resources import CATALOG
from connector.console import policy
from connector.console.guard import action, page, render, secure, sentence
from connector.errors import ConnectorError, Reason
from connector.node import NODE

routes = web.RouteTableDef()
PAGE_SIZES = (25, 50, 100)
MAX_FIELD_BYTES = 64 * 1024
FIELDS = ("title", "description", "keywords", "license", "policy", "price", "manual_release", "odrl")


def paging(request: web.Request, default: int = 25) -> tuple[int, int]:
    try:
        offset = max(0, int(request.query.get("offset", "0")))
        limit = int(request.query.get("limit", str(default)))
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, "offset and limit must be whole numbers") from None
    if not 1 <= limit <= 500:
        raise ConnectorError(Reason.BAD_INPUT, "show between 1 and 500 rows at a time")
    return offset, limit


def keywords(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def metadata(form: dict[str, Any], did: str) -> dict[str, Any]:
    title = str(form.get("title") or "").strip()
    if not title:
        raise ConnectorError(Reason.BAD_INPUT, "give the dataset a title")
    return {"title": title, "description": str(form.get("description") or "").strip() or None,
            "keywords": keywords(str(form.get("keywords") or "")),
            "license": str(form.get("license") or "").strip() or None,
            "policy": None if form.get("policy") == "keep" else policy.choice(form, did)}


def row(d: Dataset) -> dict[str, Any]:
    offers = d.offer_documents()
    return {"id": d.id, "title": d.title, "access": d.access.value, "keywords": ", ".join(d.keywords),
            "license": d.license or "", "modified": f"{d.modified:%Y-%m-%d %H:%M}",
            "policy": policy.describe(offers[0]) if offers else "no offer",
            "size": sum(x.byte_size or 0 for x in d.distributions)}


@routes.get("/datasets")
@page
async def datasets(request: web.Request) -> web.StreamResponse:
    offset, limit = paging(request)
    store = request.config_dict[CATALOG].store
    items = await store.list(frozenset(Access), limit, offset)
    total = await store.count(frozenset(Access))
    return render(request, "datasets.html", {
        "title": "Datasets", "rows": [row(d) for d in items], "offset": offset, "limit": limit,
        "total": total, "templates": policy.TEMPLATES, "sizes": PAGE_SIZES,
        "notice": "The dataset was withdrawn." if "withdrawn" in request.query else None,
    })


@routes.post("/datasets/upload")
@action
async def upload(request: web.Request) -> web.StreamResponse:
    """multipart/form-data: the form's fields, then the file (the browser sends them in the
    form's order; the file input is last). The file is stored as it arrives."""
    service = request.config_dict[CATALOG]
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError):
        return sentence(request, 400, "Send the form as multipart/form-data, with the file last.")
    form: dict[str, str] = {}
    part = await reader.next()
    while isinstance(part, BodyPartReader) and part.name != "file":
        if part.name in FIELDS or part.name == "csrf":
            text = await part.read(decode=False)
            if len(text) > MAX_FIELD_BYTES:
                return sentence(request, 413, f"The field {part.name} is above {MAX_FIELD_BYTES} bytes.")
            form[part.name] = text.decode("utf-8", "replace")
        part = await reader.next()
    if not isinstance(part, BodyPartReader) or not part.filename:
        return sentence(request, 400, "Choose a file to publish.")
    checked = metadata(form, request.config_dict[NODE].did)
    file = part

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read_chunk(1 << 20):
            yield chunk

    dataset = await service.publish_upload(file.filename or "", chunks(), **checked)
    return secure(web.Response(status=201, text=f"Published {dataset.title}.",
                               headers={"Location": f"/datasets/{dataset.id}?published=1"}))


@routes.get("/datasets/{id}")
@page
async def dataset(request: web.Request) -> web.StreamResponse:
    found = await request.config_dict[CATALOG].get(request.match_info["id"])
    notice = ("The dataset was published." if "published" in request.query
              else "Your changes were saved." if "saved" in request.query else None)
    return render(request, "dataset.html", {
        "title": found.title, "d": found, "row": row(found), "offers": found.offer_documents(),
        "templates": policy.TEMPLATES, "notice": notice,
    })


@routes.post("/datasets/{id}")
@action
async def edit(request: web.Request) -> web.StreamResponse:
    form = dict(await request.post())
    service = request.config_dict[CATALOG]
    changes = metadata(form, request.config_dict[NODE].did)
    await service.update(request.match_info["id"], **changes)
    return _see(f"/datasets/{request.match_info['id']}?saved=1")


@routes.post("/datasets/{id}/withdraw")
@action
async def withdraw(request: web.Request) -> web.StreamResponse:
    await request.config_dict[CATALOG].withdraw(request.match_info["id"])
    return _see("/datasets?withdrawn=1")


@routes.post("/policy/check")
@action
async def check_policy(request: web.Request) -> web.StreamResponse:
    """For htmx, as the operator types: one sentence saying whether the ODRL document is usable."""
    form = await request.post()
    try:
        policy.document(str(form.get("odrl") or ""))
    except ConnectorError as exc:
        return render(request, "policy_check.html", {"ok": False, "message": str(exc)})
    return render(request, "policy_check.html", {"ok": True, "message": "This ODRL policy is usable."})


def _see(location: str) -> web.StreamResponse:
    return secure(web.Response(status=303, headers={"Location": location}))
