"""HTTP bindings of the negotiation: DSP 2025-1 for both roles (the provider under
{dsp}/negotiations, the consumer's callbacks under {dsp}/callback/negotiations) and the
management API on /api/v1/negotiations.

Every DSP route needs a DCP-authenticated caller (the auth middleware answers 401 otherwise),
and a process is only visible to its counterparty: anyone else gets 404.
"""

from __future__ import annotations

from aiohttp import web

from connector.auth.caller import Caller, caller_of
from connector.catalog.resources import DSP_PATH
from connector.errors import ConnectorError, Reason
from connector.negotiation import codec
from connector.negotiation.manager import NEGOTIATIONS
from connector.negotiation.model import Role, State
from connector.negotiation.service import CALLBACK, NegotiationError, NegotiationService, summary
from connector.request import json_body

public = web.RouteTableDef()
management = web.RouteTableDef()
N = DSP_PATH + "/negotiations"
C = DSP_PATH + CALLBACK + "/negotiations"


def _service(request: web.Request) -> NegotiationService:
    return request.config_dict[NEGOTIATIONS]


def _error(status: int, reason: str, pid: str | None, role: Role) -> web.Response:
    pids = {"provider_pid": pid} if role is Role.PROVIDER else {"consumer_pid": pid}
    return web.json_response(codec.error_json(status, reason, **pids), status=status)


async def _handle(request: web.Request, role: Role, allowed: tuple[str, ...]) -> web.Response:
    pid = request.match_info.get("pid")
    caller = caller_of(request)
    if caller is None:  # pragma: no cover - the auth middleware lets no anonymous caller in
        return _error(401, "authenticate with a DCP ID token", pid, role)
    try:
        text = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "the request body is too large", pid, role)
    try:
        # 404 before looking at the body
        found = await _service(request).get_for(pid, caller) if pid is not None else None
        message = codec.decode(text, allowed)
        status, n = await _service(request).receive(role, pid, message, caller, found)
    except codec.CodecError as exc:
        return _error(400, str(exc), pid, role)
    except NegotiationError as exc:
        return _error(exc.status, str(exc), pid, role)
    return web.json_response(codec.negotiation_json(n), status=status)


# ---- provider -------------------------------------------------------------------------


async def _get(request: web.Request, role: Role) -> web.Response:
    caller: Caller | None = caller_of(request)
    pid = request.match_info["pid"]
    try:
        if caller is None:  # pragma: no cover - see _handle
            raise NegotiationError(401, "authenticate with a DCP ID token")
        n = await _service(request).get_for(pid, caller)
        if n.role is not role:
            raise NegotiationError(404, "no such negotiation")
    except NegotiationError as exc:
        return _error(exc.status, str(exc), pid, role)
    return web.json_response(codec.negotiation_json(n))


@public.get(N + "/{pid}")
async def get_negotiation(request: web.Request) -> web.Response:
    return await _get(request, Role.PROVIDER)


@public.get(C + "/{pid}")
async def get_consumer_negotiation(request: web.Request) -> web.Response:
    """DSP 2025-1: the consumer's callback answers the state of its process too."""
    return await _get(request, Role.CONSUMER)


@public.post(N + "/request")
async def initial_request(request: web.Request) -> web.Response:
    return await _handle(request, Role.PROVIDER, ("ContractRequestMessage",))


@public.post(N + "/{pid}/request")
async def counter_request(request: web.Request) -> web.Response:
    return await _handle(request, Role.PROVIDER, ("ContractRequestMessage",))


@public.post(N + "/{pid}/events")
async def provider_events(request: web.Request) -> web.Response:
    return await _handle(request, Role.PROVIDER, ("ContractNegotiationEventMessage",))


@public.post(N + "/{pid}/agreement/verification")
async def verification(request: web.Request) -> web.Response:
    return await _handle(request, Role.PROVIDER, ("ContractAgreementVerificationMessage",))


@public.post(N + "/{pid}/termination")
async def provider_termination(request: web.Request) -> web.Response:
    return await _handle(request, Role.PROVIDER, ("ContractNegotiationTerminationMessage",))


# ---- consumer callbacks ---------------------------------------------------------------


@public.post(C + "/offers")
async def initial_offer(request: web.Request) -> web.Response:
    return await _handle(request, Role.CONSUMER, ("ContractOfferMessage",))


@public.post(C + "/{pid}/offers")
async def counter_offer(request: web.Request) -> web.Response:
    return await _handle(request, Role.CONSUMER, ("ContractOfferMessage",))


@public.post(C + "/{pid}/agreement")
async def agreement(request: web.Request) -> web.Response:
    return await _handle(request, Role.CONSUMER, ("ContractAgreementMessage",))


@public.post(C + "/{pid}/events")
async def consumer_events(request: web.Request) -> web.Response:
    return await _handle(request, Role.CONSUMER, ("ContractNegotiationEventMessage",))


@public.post(C + "/{pid}/termination")
async def consumer_termination(request: web.Request) -> web.Response:
    return await _handle(request, Role.CONSUMER, ("ContractNegotiationTerminationMessage",))


# ---- management -----------------------------------------------------------------------


@management.post("/api/v1/negotiations")
async def start_negotiation(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ConnectorError(Reason.BAD_INPUT, "the body must be a JSON object")
    usage = ('the body must be {"providerUrl": URL, "datasetId": ID, "offerId": ID?} (the offer read from the '
             'provider\'s catalog) or {"providerAddress": DSP_BASE_URL, "providerId": DID, "datasetId": ID, '
             '"offer": ODRL_OFFER} (an offer already held)')
    dataset = body.get("datasetId")
    if "providerAddress" in body or "offer" in body:
        address, provider_id, offer = body.get("providerAddress"), body.get("providerId"), body.get("offer")
        if not (isinstance(address, str) and isinstance(provider_id, str) and provider_id
                and isinstance(dataset, str) and isinstance(offer, dict)) or "providerUrl" in body:
            raise ConnectorError(Reason.BAD_INPUT, usage)
        n = await _service(request).start_with_offer(address, provider_id, dataset, offer)
        return web.json_response(summary(n), status=201)
    provider, offer_id = body.get("providerUrl"), body.get("offerId")
    if not isinstance(provider, str) or not isinstance(dataset, str) or not (offer_id is None or isinstance(offer_id, str)):
        raise ConnectorError(Reason.BAD_INPUT, usage)
    n = await _service(request).start(provider, dataset, offer_id)
    return web.json_response(summary(n), status=201)


@management.get("/api/v1/negotiations")
async def list_negotiations(request: web.Request) -> web.Response:
    try:
        state = State(request.query["state"]) if "state" in request.query else None
        role = Role(request.query["role"]) if "role" in request.query else None
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, "state, role, offset or limit is not valid") from None
    if offset < 0 or not 1 <= limit <= 500:
        raise ConnectorError(Reason.BAD_INPUT, "offset must be >= 0 and limit between 1 and 500")
    if request.query.get("pending") == "true":  # waiting for the operator
        items = (await _service(request).pending())[offset : offset + limit]
    else:
        items = await _service(request).store.list(state, role, limit, offset)
    return web.json_response({"items": [summary(n) for n in items], "offset": offset, "limit": limit})


@management.get("/api/v1/negotiations/{id}")
async def show_negotiation(request: web.Request) -> web.Response:
    n = await _service(request).store.get(request.match_info["id"])
    if n is None:
        raise ConnectorError(Reason.NOT_FOUND, f"no negotiation {request.match_info['id']}")
    return web.json_response(summary(n))


@management.post("/api/v1/negotiations/{id}/terminate")
async def terminate_negotiation(request: web.Request) -> web.Response:
    n = await _service(request).terminate(request.match_info["id"])
    return web.json_response(summary(n))


@management.post("/api/v1/negotiations/{id}/agree")
async def agree_negotiation(request: web.Request) -> web.Response:
    n = await _service(request).agree(request.match_info["id"])
    return web.json_response(summary(n))


@management.post("/api/v1/negotiations/{id}/offer")
async def offer_negotiation(request: web.Request) -> web.Response:
    body = await json_body(request) if request.body_exists else {}
    offer = body.get("offer") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not (offer is None or isinstance(offer, dict)):
        raise ConnectorError(Reason.BAD_INPUT, 'the body must be {"offer": ODRL_OFFER?}')
    n = await _service(request).offer(request.match_info["id"], offer)
    return web.json_response(summary(n))
