"""The operator's part in the DSP TCK run, and the small adapter the TCK calls.

The TCK drives its own side of each scenario; where the scenario needs the connector under test
to decide (offer, agree, terminate, start, suspend, complete), a real connector's operator or
policy would. The node runs with manual decisions, and `Operator` takes them through the node's
management API, following one script per scenario: the scenario is known by its dataset
(negotiations) or agreement (transfers), which the TCK's configuration names.

A script maps a state to the actions taken on each visit to it: {"REQUESTED": ["offer",
"terminate"]} offers the first time the process is REQUESTED and terminates the second time.

`Adapter` answers the TCK's `negotiation.initiate.url` and `transfer.initiate.url`: it turns
"{datasetId, offerId, providerId, connectorAddress}" into a negotiation started through the
management API (with the offer the TCK's provider holds: `use`, its only rule), and
"{agreementId, format, providerId, connectorAddress}" into a transfer.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

log = logging.getLogger("dsp-tck")
Script = dict[str, list[str]]
FINAL = ("FINALIZED", "TERMINATED", "COMPLETED")
PAUSE = 0.4  # seconds before each action: the TCK registers what it expects after it sees a state

# ---- the scripts: what the connector under test's operator does in each scenario -----------------

PROVIDER_NEGOTIATIONS: dict[str, Script] = {
    "CN_01_01": {"REQUESTED": ["offer"]},
    "CN_01_02": {"REQUESTED": ["offer", "terminate"]},
    "CN_01_03": {"REQUESTED": ["offer"], "ACCEPTED": ["agree"], "VERIFIED": ["agree"]},
    "CN_01_04": {"REQUESTED": ["agree"], "VERIFIED": ["agree"]},
    "CN_02_01": {"REQUESTED": ["terminate"]},
    "CN_02_02": {},
    "CN_02_03": {"REQUESTED": ["agree"]},
    "CN_02_04": {"REQUESTED": ["offer"]},
    "CN_02_05": {"REQUESTED": ["offer"], "OFFERED": ["terminate"]},
    "CN_02_06": {"REQUESTED": ["offer"], "ACCEPTED": ["terminate"]},
    "CN_02_07": {"REQUESTED": ["agree"], "VERIFIED": ["terminate"]},
    "CN_03_01": {"REQUESTED": ["agree"], "VERIFIED": ["agree"]},
    "CN_03_02": {"REQUESTED": ["offer"]},
    "CN_03_03": {"REQUESTED": ["offer"]},
    "CN_03_04": {"REQUESTED": ["offer", "terminate"]},
}

CONSUMER_NEGOTIATIONS: dict[str, Script] = {
    "CN_C_01_01": {"OFFERED": ["agree"], "AGREED": ["agree"]},
    "CN_C_01_02": {"OFFERED": ["offer"]},
    "CN_C_01_03": {"OFFERED": ["terminate"]},
    "CN_C_01_04": {"AGREED": ["agree"]},
    "CN_C_02_01": {},
    "CN_C_02_02": {"REQUESTED": ["terminate"]},
    "CN_C_02_03": {"AGREED": ["terminate"]},
    "CN_C_02_04": {},
    "CN_C_02_05": {"OFFERED": ["agree"]},
    "CN_C_02_06": {"AGREED": ["agree"]},
    "CN_C_03_01": {},
    "CN_C_03_02": {},
    "CN_C_03_03": {},
    "CN_C_03_04": {"OFFERED": ["agree"]},
    "CN_C_03_05": {"OFFERED": ["agree"]},
    "CN_C_03_06": {"OFFERED": ["agree"]},
}

_STARTS = {"REQUESTED": ["start"]}
PROVIDER_TRANSFERS: dict[str, Script] = {
    "TP_01_01": {"REQUESTED": ["start"], "STARTED": ["terminate"]},
    "TP_01_02": {"REQUESTED": ["start"], "STARTED": ["complete"]},
    "TP_01_03": {"REQUESTED": ["start"], "STARTED": ["suspend"], "SUSPENDED": ["terminate"]},
    "TP_01_04": {"REQUESTED": ["start"], "STARTED": ["suspend", "complete"], "SUSPENDED": ["start"]},
    "TP_01_05": {"REQUESTED": ["terminate"]},
    "TP_02_01": _STARTS, "TP_02_02": _STARTS, "TP_02_03": _STARTS, "TP_02_04": _STARTS,
    "TP_02_05": {},
    "TP_03_01": {}, "TP_03_02": {},
    "TP_03_03": _STARTS, "TP_03_04": _STARTS, "TP_03_05": _STARTS, "TP_03_06": _STARTS,
}

CONSUMER_TRANSFERS: dict[str, Script] = {
    **{f"TP_C_01_0{i}": {} for i in range(1, 6)},
    "TP_C_02_01": {"STARTED": ["terminate"]},
    "TP_C_02_02": {"STARTED": ["complete"]},
    "TP_C_02_03": {"STARTED": ["suspend"], "SUSPENDED": ["terminate"]},
    "TP_C_02_04": {"STARTED": ["suspend", "complete"], "SUSPENDED": ["start"]},
    "TP_C_02_05": {"REQUESTED": ["terminate"]},
    **{f"TP_C_03_0{i}": {} for i in range(1, 7)},
}

# the seeding negotiations (agreements the transfer scenarios use): agreed and finalized by the
# node as provider, verified by the node as consumer
SEED_PROVIDER: Script = {"REQUESTED": ["agree"], "VERIFIED": ["agree"]}
SEED_CONSUMER: Script = {"AGREED": ["agree"]}


@dataclass
class Visit:
    state: str
    updated: str
    count: dict[str, int] = field(default_factory=dict)


@dataclass
class Operator:
    management: str  # the node's management API origin
    token: str
    negotiations: dict[str, Script] = field(default_factory=dict)  # datasetId -> script
    transfers: dict[str, Script] = field(default_factory=dict)  # agreementId -> script
    seen: dict[str, Visit] = field(default_factory=dict)
    assigned: dict[str, Script | None] = field(default_factory=dict)  # process id -> its script
    actions: list[str] = field(default_factory=list)  # what was done, for the report

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def run(self, http: aiohttp.ClientSession) -> None:
        while True:
            try:
                await self._round(http, "negotiations", self.negotiations, "datasetId")
                await self._round(http, "transfers", self.transfers, "agreementId")
            except (aiohttp.ClientError, TimeoutError) as exc:  # the node restarting: try again
                log.warning("operator: %s", exc)
            await asyncio.sleep(0.05)

    async def _round(self, http: aiohttp.ClientSession, kind: str, scripts: dict[str, Script], key: str) -> None:
        async with http.get(f"{self.management}/api/v1/{kind}", params={"limit": "500"}, headers=self.auth) as r:
            items = (await r.json())["items"]
        for item in items:
            # a process keeps the script it got when first seen (a counter-request may name
            # another dataset: the scenario is still the same)
            script = self.assigned.setdefault(item["id"], scripts.get(item.get(key) or ""))
            if script is None or item["state"] in FINAL:
                continue
            if item["role"] == "CONSUMER" and not item.get("providerPid"):
                continue  # nothing can be said to a provider that has not answered yet
            visit = self.seen.get(item["id"])
            if visit is not None and visit.state == item["state"] and visit.updated == item["updatedAt"]:
                continue  # nothing new
            visit = visit or Visit(item["state"], item["updatedAt"])
            visit.state, visit.updated = item["state"], item["updatedAt"]
            self.seen[item["id"]] = visit
            n = visit.count.get(item["state"], 0)
            visit.count[item["state"]] = n + 1
            todo = script.get(item["state"], [])
            if n < len(todo):
                await self._act(http, kind, item, todo[n])

    async def _act(self, http: aiohttp.ClientSession, kind: str, item: dict[str, Any], action: str) -> None:
        await asyncio.sleep(PAUSE)
        body: dict[str, Any] = {}
        if kind == "negotiations" and action == "offer" and item["role"] == "CONSUMER":
            body = {"offer": item["offer"]}  # a counter-request with the terms we hold
        url = f"{self.management}/api/v1/{kind}/{item['id']}/{action}"
        async with http.post(url, json=body, headers=self.auth) as r:
            answer = await r.text()
        self.actions.append(f"{kind} {item.get('datasetId') or item.get('agreementId')} {item['state']}: "
                            f"{action} -> {r.status}")
        if r.status >= 300:
            log.warning("operator: %s %s in %s answered %s: %s", action, item["id"], item["state"], r.status, answer)


@dataclass
class Adapter:
    """The TCK's trigger for our node as consumer, turned into management API calls."""

    operator: Operator
    calls: list[str] = field(default_factory=list)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/tck/negotiations/requests", self.negotiation)
        app.router.add_post("/tck/transfers/requests", self.transfer)

    async def _post(self, path: str, body: dict[str, Any]) -> web.Response:
        async with aiohttp.ClientSession() as http, http.post(
                f"{self.operator.management}{path}", json=body, headers=self.operator.auth) as r:
            text = await r.text()
        self.calls.append(f"{path} -> {r.status}")
        if r.status >= 300:
            log.warning("adapter: %s answered %s: %s", path, r.status, text)
        return web.Response(status=200 if r.status < 300 else 500, text=text, content_type="application/json")

    async def negotiation(self, request: web.Request) -> web.Response:
        asked = await request.json()
        offer = {"@id": asked["offerId"], "@type": "Offer", "permission": [{"action": "use"}]}
        return await self._post("/api/v1/negotiations", {
            "providerAddress": asked["connectorAddress"], "providerId": asked["providerId"],
            "datasetId": asked["datasetId"], "offer": offer})

    async def transfer(self, request: web.Request) -> web.Response:
        asked = await request.json()
        return await self._post("/api/v1/transfers", {
            "agreementId": asked["agreementId"], "format": asked.get("format", "HttpData-PULL"),
            "providerAddress": asked["connectorAddress"]})
