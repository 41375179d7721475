"""HTTP bindings of identity: the did:web document (public) and credential use cases (management)."""

from __future__ import annotations

from aiohttp import web

from connector.credentials import service as credentials
from connector.credentials.status import StatusRegistry
from connector.errors import ConnectorError, Reason
from connector.identity.did import node_did_document
from connector.node import NODE
from connector.request import json_body

public = web.RouteTableDef()
management = web.RouteTableDef()


def own_document(request: web.Request) -> dict:
    node = request.app[NODE]
    return node_did_document(node.did, node.keys, node.config.public_url)


@public.get("/.well-known/did.json")
async def did_json(request: web.Request) -> web.Response:
    return web.json_response(own_document(request), content_type="application/did+json")


@public.get("/credentials/status/{scheme}")
async def status_list(request: web.Request) -> web.Response:
    """The node's revocation list, signed now (BitstringStatusList or StatusList2021)."""
    node = request.app[NODE]
    scheme = request.match_info["scheme"]
    jwt = StatusRegistry(node.config.home, node.config.public_url).list_credential(scheme, node.signer)
    kind = "application/vc+jwt" if scheme == "bitstring" else "application/jwt"
    return web.Response(text=jwt, content_type=kind, headers={"Cache-Control": "max-age=60"})


@management.get("/api/v1/did")
async def show_did(request: web.Request) -> web.Response:
    return web.json_response(own_document(request))


@management.post("/api/v1/did/resolve")
async def resolve_did(request: web.Request) -> web.Response:
    body = await json_body(request)
    did = body.get("did") if isinstance(body, dict) else None
    if not isinstance(did, str):
        raise ConnectorError(Reason.BAD_INPUT, 'the body must be {"did": "did:..."}')
    return web.json_response(await request.app[NODE].resolver.resolve(did))


@management.post("/api/v1/credentials/issue")
async def issue(request: web.Request) -> web.Response:
    node = request.app[NODE]
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("subject"), str) or not isinstance(body.get("type"), str):
        raise ConnectorError(Reason.BAD_INPUT, 'the body must be {"subject": DID, "type": NAME, "claims": {...}, "format": "jwt"|"jwt11"|"ldp", "status": false, "suite": NAME}')
    claims = body.get("claims", {})
    if not isinstance(claims, dict):
        raise ConnectorError(Reason.BAD_INPUT, "claims must be a JSON object")
    if not isinstance(body.get("status", False), bool):
        raise ConnectorError(Reason.BAD_INPUT, "status must be true (revocable) or false")
    suite = body.get("suite")
    if suite is not None and not isinstance(suite, str):
        raise ConnectorError(Reason.BAD_INPUT, "suite must be a proof suite name such as eddsa-rdfc-2022")
    registry = StatusRegistry(node.config.home, node.config.public_url) if body.get("status") else None
    stored, issued = await credentials.issue(
        node.credentials, credentials.suite_signer(node.keys, node.did, suite), node.resolver,
        body["subject"], body["type"], claims, str(body.get("format", "jwt")), status=registry, suite=suite,
    )
    return web.json_response(credentials.issued_view(stored, issued), status=201)


@management.post("/api/v1/credentials/issued/{id}/revoke")
async def revoke(request: web.Request) -> web.Response:
    """Set a credential's bit in the node's revocation list: verifiers refuse it from then on."""
    node = request.app[NODE]
    registry = StatusRegistry(node.config.home, node.config.public_url)
    stored, changed = await credentials.revoke(node.credentials, registry, request.match_info["id"])
    return web.json_response({**stored.summary(), "revoked": True, "changed": changed})


@management.post("/api/v1/credentials/verify")
async def verify(request: web.Request) -> web.Response:
    verification = await credentials.verify(await request.text(), request.app[NODE].resolver)
    return web.json_response(credentials.verification_view(verification))


@management.post("/api/v1/credentials")
async def hold(request: web.Request) -> web.Response:
    node = request.app[NODE]
    stored, created = await credentials.hold(node.credentials, node.resolver, node.did, await request.text())
    return web.json_response(stored.summary(), status=201 if created else 200)


@management.get("/api/v1/credentials")
async def list_credentials(request: web.Request) -> web.Response:
    items = await credentials.list_filtered(request.app[NODE].credentials, request.query)
    return web.json_response({"items": [c.summary() for c in items]})


@management.get("/api/v1/credentials/{role}/{id}")
async def show_credential(request: web.Request) -> web.Response:
    node = request.app[NODE]
    stored = await credentials.find(node.credentials, request.match_info["role"], request.match_info["id"])
    return web.json_response({**stored.summary(), "document": stored.document})
