"""HTTP bindings of compute-to-data.

Provider, under the DSP base (a DCP-authenticated caller is required; a job is visible to the
consumer who submitted it only, anyone else gets 404):
  POST {dsp}/compute/jobs                 submit {agreementId, kind, algorithm, publisherSignature?,
                                          consumerJobId?}: 201, or 200 with the job that id made
  GET  {dsp}/compute/jobs/{id}?wait=S     its state (long poll up to S seconds), receipt when final
  GET  {dsp}/compute/jobs/{id}/result     the result archive (tar) once released

Management API: /api/v1/jobs (both roles; look at a result, approve or reject it when it waits
for release)
and /api/v1/compute (the consumer: submit through this node, follow, download).
"""

from __future__ import annotations

from aiohttp import web

from connector.auth.caller import caller_of
from connector.auth.middleware import DSP_CONTEXT
from connector.catalog.resources import DSP_PATH
from connector.compute.manager import CLIENT, COMPUTE
from connector.compute.model import JobState, Role
from connector.compute.service import ComputeRefusal, parse_json, status_json, summary
from connector.errors import ConnectorError, Reason
from connector.request import json_body

public = web.RouteTableDef()
management = web.RouteTableDef()
J = DSP_PATH + "/compute/jobs"
TAR = "application/x-tar"


def _error(status: int, reason: str) -> web.Response:
    body = {"@context": [DSP_CONTEXT], "@type": "ComputeJobError", "code": str(status), "reason": [reason]}
    return web.json_response(body, status=status)


def _wait(request: web.Request) -> float:
    try:
        wait = float(request.query.get("wait", "0"))
    except ValueError:
        wait = -1.0
    if not 0 <= wait <= 30:
        raise ComputeRefusal(400, "wait must be a number of seconds between 0 and 30")
    return wait


@public.post(J)
async def submit(request: web.Request) -> web.Response:
    caller = caller_of(request)
    try:
        if caller is None:  # pragma: no cover - the auth middleware lets no anonymous caller in
            raise ComputeRefusal(401, "authenticate with a DCP ID token")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise ComputeRefusal(413, "the request body is too large") from None
        created, job = await request.config_dict[COMPUTE].submit(caller, parse_json(body))
    except ComputeRefusal as exc:
        return _error(exc.status, str(exc))
    return web.json_response(status_json(job), status=201 if created else 200)


@public.get(J + "/{id}")
async def status(request: web.Request) -> web.Response:
    service = request.config_dict[COMPUTE]
    try:
        job = await service.get_for(request.match_info["id"], caller_of(request))
        job = await service.wait(job, _wait(request))
    except ComputeRefusal as exc:
        return _error(exc.status, str(exc))
    return web.json_response(status_json(job))


@public.get(J + "/{id}/result")
async def result(request: web.Request) -> web.StreamResponse:
    service = request.config_dict[COMPUTE]
    try:
        job = await service.get_for(request.match_info["id"], caller_of(request))
    except ComputeRefusal as exc:
        return _error(exc.status, str(exc))
    path = service.result_path(job)
    if not job.state.has_result or not path.is_file():
        return _error(409, f"the job is {job.state.value}: it has no result to hand over")
    return web.FileResponse(path, headers={"Content-Type": TAR, "Digest": f"sha-256={job.result_hash}"})


# ---- management: jobs (both roles) ----------------------------------------------------


@management.get("/api/v1/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    try:
        role = Role(request.query.get("role", "PROVIDER"))
        state = JobState(request.query["state"]) if "state" in request.query else None
        offset, limit = int(request.query.get("offset", "0")), int(request.query.get("limit", "100"))
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, "role, state, offset or limit is not valid") from None
    if offset < 0 or not 1 <= limit <= 500:
        raise ConnectorError(Reason.BAD_INPUT, "offset must be >= 0 and limit between 1 and 500")
    items = await request.config_dict[COMPUTE].store.list(role, state, limit, offset)
    return web.json_response({"items": [_brief(j) for j in items], "offset": offset, "limit": limit})


def _brief(job) -> dict:  # type: ignore[no-untyped-def]
    shown = summary(job)
    for key in ("log", "algorithm", "receipt", "receiptClaims"):
        shown.pop(key)
    return shown


@management.get("/api/v1/jobs/{id}")
async def show_job(request: web.Request) -> web.Response:
    job = await request.config_dict[COMPUTE].store.get(request.match_info["id"])
    if job is None:
        raise ConnectorError(Reason.NOT_FOUND, f"no job {request.match_info['id']}")
    return web.json_response(summary(job))


@management.get("/api/v1/jobs/{id}/result")
async def job_result(request: web.Request) -> web.StreamResponse:
    """The result archive, for the operator to look at before releasing it (or after)."""
    service = request.config_dict[COMPUTE]
    job = await service.store.get(request.match_info["id"])
    if job is None:
        raise ConnectorError(Reason.NOT_FOUND, f"no job {request.match_info['id']}")
    held = job.state is JobState.AWAITING_RELEASE or job.state.has_result
    path = service.result_path(job) if job.role is Role.PROVIDER else request.config_dict[CLIENT].result_path(job)
    if not held or not path.is_file():
        raise ConnectorError(Reason.CONFLICT, f"the job is {job.state.value}: it has no result")
    return web.FileResponse(path, headers={"Content-Type": TAR})


async def _decide(request: web.Request, approve: bool) -> web.Response:
    reason = None
    if not approve and request.body_exists:  # a middleware may have read it already
        body = await json_body(request)
        reason = body.get("reason") if isinstance(body, dict) else None
        if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
            raise ConnectorError(Reason.BAD_INPUT, 'the body must be {"reason": "one sentence"}')
    job = await request.config_dict[COMPUTE].release(request.match_info["id"], approve, reason)
    return web.json_response(summary(job))


@management.post("/api/v1/jobs/{id}/approve")
async def approve_job(request: web.Request) -> web.Response:
    return await _decide(request, True)


@management.post("/api/v1/jobs/{id}/reject")
async def reject_job(request: web.Request) -> web.Response:
    return await _decide(request, False)


# ---- management: the consumer ---------------------------------------------------------


@management.post("/api/v1/compute")
async def start_compute(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ConnectorError(Reason.BAD_INPUT, "the body must be a JSON object")
    provider, agreement, algorithm = body.get("providerUrl"), body.get("agreementId"), body.get("algorithm")
    kind, signature = body.get("kind", "python"), body.get("publisherSignature")
    if not all(isinstance(v, str) for v in (provider, agreement, algorithm, kind)) or not (
            signature is None or isinstance(signature, str)):
        raise ConnectorError(Reason.BAD_INPUT, 'the body must be {"providerUrl", "agreementId", "algorithm", '
                                               '"kind"?: "python"|"sparql", "publisherSignature"?}')
    job = await request.config_dict[CLIENT].submit(provider, agreement, algorithm, kind, signature)
    return web.json_response(summary(job), status=201)


@management.get("/api/v1/compute/{id}")
async def follow_compute(request: web.Request) -> web.Response:
    try:
        wait = _wait(request)
    except ComputeRefusal as exc:
        raise ConnectorError(Reason.BAD_INPUT, str(exc)) from None
    job = await request.config_dict[CLIENT].refresh(request.match_info["id"], wait)
    return web.json_response(summary(job))


@management.get("/api/v1/compute/{id}/result")
async def compute_result(request: web.Request) -> web.StreamResponse:
    client = request.config_dict[CLIENT]
    job = await client.get(request.match_info["id"])
    path = client.result_path(job)
    if not job.state.has_result or not path.is_file():
        raise ConnectorError(Reason.CONFLICT, f"the job is {job.state.value}: it has no verified result")
    return web.FileResponse(path, headers={"Content-Type": TAR})
