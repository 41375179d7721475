"""HTTP bindings of self-descriptions: the public document and the management use cases."""

from __future__ import annotations

from aiohttp import web

from connector.node import NODE
from connector.selfdescription.publisher import framework_of
from connector.selfdescription.service import SelfDescription
from connector.selfdescription.validate import validate_self_description

public = web.RouteTableDef()
management = web.RouteTableDef()


def _current(request: web.Request) -> SelfDescription:
    return request.app[NODE].self_descriptions.get(framework_of(request.query.get("variant", "loire")))


def view(built: SelfDescription) -> dict:
    return {
        "framework": built.framework.value,
        "mediaType": built.media_type,
        "issued": built.issued.isoformat(),
        "presentation": built.presentation,
        "credentials": built.credentials,
    }


@public.get("/self-description")
async def self_description(request: web.Request) -> web.Response:
    built = _current(request)
    if isinstance(built.presentation, str):
        return web.Response(text=built.presentation, content_type=built.media_type)
    return web.json_response(built.presentation, content_type=built.media_type)


@management.get("/api/v1/self-description")
async def show(request: web.Request) -> web.Response:
    return web.json_response(view(_current(request)))


@management.post("/api/v1/self-description/validate")
async def validate(request: web.Request) -> web.Response:
    report = await validate_self_description(await request.text(), request.app[NODE].resolver)
    return web.json_response(report.to_json())
