"""/api/openapi.json and an interactive /api/docs page that works offline (bundled Swagger UI)."""

from __future__ import annotations

from importlib.metadata import version

import swagger_ui_bundle
from aiohttp import web

from connector.app import openapi

routes = web.RouteTableDef()
STATIC_PREFIX = "/api/docs/static"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>communs management API</title>
<link rel="stylesheet" href="{static}/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{url: "/api/openapi.json", dom_id: "#ui", validatorUrl: null,
  persistAuthorization: true}});
</script></body></html>
"""


@routes.get("/api/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi.document(version("communs")))


@routes.get("/api/docs")
async def docs(request: web.Request) -> web.Response:
    return web.Response(text=_PAGE.format(static=STATIC_PREFIX), content_type="text/html")


def add_static(app: web.Application) -> None:
    app.router.add_static(STATIC_PREFIX, swagger_ui_bundle.swagger_ui_path)
