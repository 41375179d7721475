"""Agreements the TCK's transfer scenarios need, made over DSP before the TCK runs.

The TCK names an agreement in each transfer scenario (TP_xx_AGREEMENTID); the node must hold it,
FINALIZED, with the TCK's participant. `Counterpart` makes them by negotiating with the node as
that participant (the static token the TCK uses too), from the DSP 2025-1 messages:

- as consumer (our node provides): a ContractRequestMessage for one of the node's offers; the
  node's agreement comes to our callback, we verify it, the node finalizes;
- as provider (our node consumes): the node asks us (a negotiation started through its
  management API), we send an agreement with the id we chose, it verifies, we finalize.

The operator (dsp_tck_operator.SEED) takes the node's decisions in both.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

CTX = ["https://w3id.org/dspace/2025/1/context.jsonld"]
PARTICIPANT = "TCK_PARTICIPANT"


@dataclass
class Counterpart:
    node_dsp: str  # the node's DSP base, e.g. http://127.0.0.1:P/dsp
    node_did: str
    base: str  # where this counterpart is served, e.g. http://127.0.0.1:Q
    token: str  # the static token the node knows as PARTICIPANT
    agreements: dict[str, str] = field(default_factory=dict)  # consumerPid -> agreement id
    finalized: dict[str, asyncio.Event] = field(default_factory=dict)  # consumerPid -> done
    provided: dict[str, dict[str, Any]] = field(default_factory=dict)  # providerPid -> state
    tasks: set[asyncio.Task] = field(default_factory=set)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/seed/consumer/negotiations/{cpid}/agreement", self.agreement)
        app.router.add_post("/seed/consumer/negotiations/{cpid}/events", self.event)
        app.router.add_post("/seed/provider/negotiations/request", self.request)
        app.router.add_post("/seed/provider/negotiations/{ppid}/agreement/verification", self.verification)

    def _later(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, url: str, body: dict[str, Any]) -> tuple[int, Any]:
        await asyncio.sleep(0.1)  # after our answer to the message that led here
        async with aiohttp.ClientSession() as http, http.post(
                url, json=body, headers={"Authorization": self.token}) as r:
            return r.status, await r.json(content_type=None)

    # ---- as consumer: agreements of the node's datasets -----------------------------------------

    async def agree_as_consumer(self, offer: dict[str, Any], timeout: float = 30.0) -> str:
        cpid = f"urn:uuid:{uuid.uuid4()}"
        self.finalized[cpid] = asyncio.Event()
        status, answer = await self._send(f"{self.node_dsp}/negotiations/request", {
            "@context": CTX, "@type": "ContractRequestMessage", "consumerPid": cpid, "offer": offer,
            "callbackAddress": f"{self.base}/seed/consumer"})
        if status != 201:
            raise RuntimeError(f"the node refused the seeding request ({status}): {answer}")
        await asyncio.wait_for(self.finalized[cpid].wait(), timeout)
        return self.agreements[cpid]

    async def agreement(self, request: web.Request) -> web.Response:
        body = await request.json()
        cpid, ppid = body["consumerPid"], body["providerPid"]
        self.agreements[cpid] = body["agreement"]["@id"]
        self._later(self._send(f"{self.node_dsp}/negotiations/{ppid}/agreement/verification", {
            "@context": CTX, "@type": "ContractAgreementVerificationMessage", "consumerPid": cpid,
            "providerPid": ppid}))
        return web.json_response(_negotiation(cpid, ppid, "AGREED"))

    async def event(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("eventType") == "FINALIZED" and body["consumerPid"] in self.finalized:
            self.finalized[body["consumerPid"]].set()
        return web.json_response(_negotiation(body["consumerPid"], body["providerPid"], "FINALIZED"))

    # ---- as provider: agreements the node holds as consumer -------------------------------------

    def expect(self, dataset_id: str, agreement_id: str) -> None:
        """The next request for DATASET_ID gets AGREEMENT_ID."""
        self.provided[dataset_id] = {"agreement": agreement_id}

    async def request(self, request: web.Request) -> web.Response:
        body = await request.json()
        offer, cpid, callback = body["offer"], body["consumerPid"], body["callbackAddress"]
        ppid = f"urn:uuid:{uuid.uuid4()}"
        wanted = self.provided[offer["target"]]
        wanted.update(cpid=cpid, ppid=ppid, callback=callback)
        self.provided[ppid] = wanted
        agreement = {"@id": wanted["agreement"], "@type": "Agreement", "target": offer["target"],
                     "assigner": PARTICIPANT, "assignee": self.node_did, "timestamp": "2026-01-01T00:00:00Z",
                     "permission": offer.get("permission", [{"action": "use"}])}
        self._later(self._send(f"{callback}/negotiations/{cpid}/agreement", {
            "@context": CTX, "@type": "ContractAgreementMessage", "consumerPid": cpid, "providerPid": ppid,
            "agreement": agreement}))
        return web.json_response(_negotiation(cpid, ppid, "REQUESTED"), status=201)

    async def verification(self, request: web.Request) -> web.Response:
        wanted = self.provided[request.match_info["ppid"]]
        cpid, ppid = wanted["cpid"], wanted["ppid"]
        self._later(self._send(f"{wanted['callback']}/negotiations/{cpid}/events", {
            "@context": CTX, "@type": "ContractNegotiationEventMessage", "consumerPid": cpid,
            "providerPid": ppid, "eventType": "FINALIZED"}))
        return web.json_response(_negotiation(cpid, ppid, "VERIFIED"))


def _negotiation(cpid: str, ppid: str, state: str) -> dict[str, Any]:
    return {"@context": CTX, "@type": "ContractNegotiation", "consumerPid": cpid, "providerPid": ppid,
            "state": state}
