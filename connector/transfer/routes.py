"""HTTP bindings of the transfer process: DSP 2025-1 for both roles (the provider under
{dsp}/transfers, the consumer's callbacks under {dsp}/callback/transfers) and the management
API on /api/v1/transfers. The data plane is in `dataplane.py`.

Every DSP route needs a DCP-authenticated caller (the auth middleware answers 401 otherwise),
and a process is only visible to its counterparty: anyone else gets 404.
"""

from __future__ import annotations

from aiohttp import web

from connector.auth.caller import caller_of
from connector.catalog.resources import DSP_PATH
from connector.errors import ConnectorError, Reason
from connector.negotiation.model import Role
from connector.request import json_body
from connector.transfer import codec
from connector.transfer.manager import TRANSFERS
from connector.transfer.model import FORMATS, PULL, MessageKind, State
from connector.transfer.service import CALLBACK, TransferError, TransferService, summary

public = web.RouteTableDef()
management = web.RouteTableDef()
T = DSP_PATH + "/transfers"
C = DSP_PATH + CALLBACK + "/transfers"


def _service(request: web.Request) -> TransferService:
    return request.config_dict[TRANSFERS]


def _error(status: int, reason: str, pid: str | None, role: Role) -> web.Response:
    pids = {"provider_pid": pid} if role is Role.PROVIDER else {"consumer_pid": pid}
    return web.json_response(codec.error_json(status, reason, **pids), status=status)


async def _handle(request: web.Request, role: Role, allowed: str) -> web.Response:
    pid = request.match_info.get("pid")
    caller = caller_of(request)
    if caller is None:  # pragma: no cover - the auth middleware lets no anonymous caller in
        return _error(401, "authenticate with a DCP ID token", pid, role)
    try:
        text = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "the request body is too large", pid, role)
    try:
        if pid is not None:
            await _service(request).get_for(pid, caller, role)  # 404 before looking at the body
        message = codec.decode(text, (allowed,))
        status, p = await _service(request).receive(role, pid, message, caller)
    except codec.CodecError as exc:
        return _error(400, str(exc), pid, role)
    except TransferError as exc:
        return _error(exc.status, str(exc), pid, role)
    return web.json_response(codec.process_json(p), status=status)


async def _get(request: web.Request, role: Role) -> web.Response:
    pid = request.match_info["pid"]
    caller = caller_of(request)
    try:
        if caller is None:  # pragma: no cover - see _handle
            raise TransferError(401, "authenticate with a DCP ID token")
        p = await _service(request).get_for(pid, caller, role)
    except TransferError as exc:
        return _error(exc.status, str(exc), pid, role)
    return web.json_response(codec.process_json(p))


@public.get(T + "/{pid}")
async def get_transfer(request: web.Request) -> web.Response:
    return await _get(request, Role.PROVIDER)


@public.get(C + "/{pid}")
async def get_consumer_transfer(request: web.Request) -> web.Response:
    """DSP 2025-1: the consumer's callback answers the state of its process too."""
    return await _get(request, Role.CONSUMER)


def _add(table: web.RouteTableDef, prefix: str, role: Role) -> None:
    paths = [("/{pid}/start", MessageKind.START), ("/{pid}/completion", MessageKind.COMPLETION),
             ("/{pid}/suspension", MessageKind.SUSPENSION), ("/{pid}/termination", MessageKind.TERMINATION)]
    if role is Role.PROVIDER:
        paths.insert(0, ("/request", MessageKind.REQUEST))
    for path, kind in paths:
        async def handler(request: web.Request, kind: MessageKind = kind) -> web.Response:
            return await _handle(request, role, kind.value)

        table.post(prefix + path)(handler)


_add(public, T, Role.PROVIDER)
_add(public, C, Role.CONSUMER)


# ---- management -----------------------------------------------------------------------


@management.post("/api/v1/transfers")
async def start_transfer(request: web.Request) -> web.Response:
    body = await json_body(request)
    usage_text = ('the body must be {"agreementId": ID, "providerUrl": URL? or "providerAddress": DSP_BASE_URL?, '
                  f'"format": {"|".join(FORMATS)}?, "dataAddress": DataAddress?, "purpose": TEXT?}}')
    if not isinstance(body, dict) or ("providerUrl" in body and "providerAddress" in body):
        raise ConnectorError(Reason.BAD_INPUT, usage_text)
    agreement, provider = body.get("agreementId"), body.get("providerUrl")
    dsp_address = body.get("providerAddress")
    if not (dsp_address is None or isinstance(dsp_address, str) and dsp_address.startswith(("http://", "https://"))):
        raise ConnectorError(Reason.BAD_INPUT, usage_text)
    format_, address, purpose = body.get("format", PULL), body.get("dataAddress"), body.get("purpose")
    if (not isinstance(agreement, str) or not (provider is None or isinstance(provider, str))
            or not isinstance(format_, str) or not (address is None or isinstance(address, dict))
            or not (purpose is None or isinstance(purpose, str))):
        raise ConnectorError(Reason.BAD_INPUT, usage_text)
    p = await _service(request).request(provider, agreement, format_, address, purpose, dsp_address=dsp_address)
    return web.json_response(summary(p), status=201)


@management.get("/api/v1/transfers")
async def list_transfers(request: web.Request) -> web.Response:
    try:
        state = State(request.query["state"]) if "state" in request.query else None
        role = Role(request.query["role"]) if "role" in request.query else None
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, "state, role, offset or limit is not valid") from None
    if offset < 0 or not 1 <= limit <= 500:
        raise ConnectorError(Reason.BAD_INPUT, "offset must be >= 0 and limit between 1 and 500")
    items = await _service(request).store.list(state, role, limit, offset)
    return web.json_response({"items": [summary(p) for p in items], "offset": offset, "limit": limit})


@management.get("/api/v1/transfers/{id}")
async def show_transfer(request: web.Request) -> web.Response:
    return web.json_response(summary(await _service(request).owned(request.match_info["id"])))


_COMMANDS = {"suspend": (MessageKind.SUSPENSION, "suspended by its owner"), "start": (MessageKind.START, None),
             "complete": (MessageKind.COMPLETION, None), "terminate": (MessageKind.TERMINATION, "terminated by its owner")}


def _command(name: str) -> None:
    kind, reason = _COMMANDS[name]

    async def handler(request: web.Request) -> web.Response:
        p = await _service(request).command(request.match_info["id"], kind, reason)
        return web.json_response(summary(p))

    management.post(f"/api/v1/transfers/{{id}}/{name}")(handler)


for _name in _COMMANDS:
    _command(_name)
