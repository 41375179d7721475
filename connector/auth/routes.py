"""HTTP binding of the credential service (public): DCP's presentation query endpoint.

The node's DID document names `<public_url>/credentials` as its CredentialService, and DCP
appends `/presentations/query`.
"""

from __future__ import annotations

from aiohttp import web

from connector.auth.credential_service import Unsupported
from connector.auth.resources import AUTH
from connector.request import json_body

public = web.RouteTableDef()


@public.post("/credentials/presentations/query")
async def presentations_query(request: web.Request) -> web.Response:
    holder = request.config_dict[AUTH].holder
    authorization = request.headers.get("Authorization")
    body = await json_body(request)  # capped by the app's client_max_size (413)
    try:
        answer = await holder.answer(authorization, body)
    except Unsupported as exc:
        raise web.HTTPNotImplemented(text=str(exc)) from None
    return web.json_response(answer)
