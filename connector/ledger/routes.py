"""The management API of the node's ledger link (/api/v1/ledger...): its status, the members
it has checked, proposals and votes, joining, the value report and the audit of an agreement.
A node without [ledger] answers 404 with how to set one."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from connector.compute.manager import COMPUTE
from connector.errors import ConnectorError, Reason
from connector.ledger.audit import audit
from connector.ledger.market import parse_price
from connector.ledger.service import LEDGER, LedgerService
from connector.negotiation.manager import NEGOTIATIONS
from connector.node import NODE
from connector.request import json_body
from connector.selfdescription.digest import claims_digest
from connector.selfdescription.publisher import Framework
from connector.transfer.manager import TRANSFERS

management = web.RouteTableDef()


def _ledger(request: web.Request) -> LedgerService:
    found = request.app.get(LEDGER)
    if found is None:
        raise ConnectorError(Reason.NOT_FOUND, "this node has no ledger: set [ledger] rpc_url "
                                               "and genesis in its communs.toml")
    return found


@management.get("/api/v1/ledger")
async def status(request: web.Request) -> web.Response:
    return web.json_response(await _ledger(request).status())


@management.get("/api/v1/ledger/members")
async def members(request: web.Request) -> web.Response:
    """The registry's members (a list: not provable) with this node's check of each."""
    ledger = _ledger(request)
    listed = (await ledger.ledger.unproven("/registry/members"))["members"]
    return web.json_response({"members": [
        {**m, "check": ledger.checks[m["did"]].to_json() if m["did"] in ledger.checks else None}
        for m in listed]})


@management.get("/api/v1/ledger/proposals")
async def proposals(request: web.Request) -> web.Response:
    return web.json_response({"proposals": await _ledger(request).proposals()})


@management.post("/api/v1/ledger/proposals/{id}/votes")
async def vote(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("option"), str) \
            or not request.match_info["id"].isdigit():
        raise ConnectorError(Reason.BAD_INPUT, 'the body must be {"option": "yes"|"no"|"abstain"|"veto"}')
    return web.json_response(await _ledger(request).vote(int(request.match_info["id"]),
                                                         body["option"]), status=201)


@management.post("/api/v1/ledger/join")
async def join(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("deposit", "0"), str):
        raise ConnectorError(Reason.BAD_INPUT, 'the body must be {"deposit": "10com"?, "title": TEXT?}')
    node = request.app[NODE]
    built = node.self_descriptions.get(Framework.LOIRE)
    done = await _ledger(request).join(node.config.public_url, claims_digest(built.credentials.values()),
                                       parse_price(body.get("deposit", "0")), body.get("title"))
    return web.json_response(done, status=201)


@management.get("/api/v1/ledger/value")
async def value(request: web.Request) -> web.Response:
    return web.json_response(await _ledger(request).market.value(request.query.get("dataset")))


@management.get("/api/v1/ledger/audit/{agreement}")
async def audit_agreement(request: web.Request) -> web.Response:
    app: Any = request.app
    report = await audit(_ledger(request), app[NEGOTIATIONS].store, app[TRANSFERS].store,
                         app[COMPUTE].store, request.match_info["agreement"])
    return web.json_response(report)
