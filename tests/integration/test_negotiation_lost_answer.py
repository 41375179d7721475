"""A message delivered whose answer was lost, between real nodes over real HTTP.

The consumer reaches the provider through a loopback proxy that forwards its counter-request,
then drops the connection instead of passing the answer back. The consumer's outbox retries;
the provider refuses the re-delivered ContractRequestMessage, as DSP says (it is no longer
allowed in REQUESTED, nor later). The consumer then asks the provider's state, finds its
message taken, and carries on: both sides end FINALIZED, nothing was ended for a lost answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp
import pytest
from aiohttp import web

from connector.auth.client import dsp_request
from connector.config import load, save
from tests.nodes import client, free_port, init_federation, publish, serving

DROP = "/request"  # the counter-request's path ends so (the opening one is /negotiations/request)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return init_federation(tmp_path_factory)


class LossyProxy:
    """Forwards every request to TARGET; the first counter-request (or opening request) is
    forwarded, its answer read, and the connection then closed without a response. Records
    what went through."""

    def __init__(self, target: str, opening: bool = False) -> None:
        self.target = target
        self.opening = opening  # drop the answer to the opening request instead
        self.seen: list[tuple[str, str, int | None]] = []  # method, path, status passed back
        self.dropped = 0

    async def forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type", "accept")}
        async with aiohttp.ClientSession() as session, session.request(
            request.method, self.target + request.path_qs, data=body or None, headers=headers, allow_redirects=False
        ) as answer:
            payload = await answer.read()
            status, content_type = answer.status, answer.headers.get("Content-Type")
        opening = request.path.endswith("/negotiations/request")
        dropped = request.method == "POST" and request.path.endswith(DROP) and opening is self.opening
        if dropped and not self.dropped:
            self.dropped += 1
            self.seen.append((request.method, request.path, None))
            request.transport.close()  # delivered, but the sender never hears so
            raise web.HTTPInternalServerError()  # never written: the connection is gone
        self.seen.append((request.method, request.path, status))
        response = web.Response(body=payload, status=status)
        if content_type:
            response.headers["Content-Type"] = content_type
        return response

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


async def api(http, node, method, path, body=None) -> dict:
    async with http.request(method, f"{node.management}/api/v1{path}", json=body, headers=node.auth) as response:
        assert response.status in (200, 201), await response.text()
        return await response.json()


async def until(http, node, negotiation_id, state, timeout=15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = await api(http, node, "GET", f"/negotiations/{negotiation_id}")
        if found["state"] in (state, "TERMINATED") or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def providers_view(http, provider, consumer_pid, state) -> dict:
    deadline = time.monotonic() + 15
    while True:
        items = (await api(http, provider, "GET", "/negotiations?role=PROVIDER"))["items"]
        found = next((n for n in items if n["consumerPid"] == consumer_pid), None)
        if (found and found["state"] in (state, "TERMINATED")) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def dataset_offer(member, provider, dataset_id) -> tuple[str, dict]:
    """The dataset's DSP id and its first offer, as the member reads them."""
    url = f"{provider.public}/dsp/catalog/datasets/{dataset_id}"
    node = member.running.node
    async with dsp_request(node.session, "GET", url, signer=node.signer) as response:
        assert response.status == 200, await response.text()
        dataset = await response.json()
    policies = dataset["hasPolicy"]
    return dataset["@id"], policies[0] if isinstance(policies, list) else policies


@pytest.mark.parametrize("provider_decisions", ["manual", "auto"])
async def test_a_counter_request_whose_answer_was_lost_is_not_the_end(folders, provider_decisions):
    """manual: the provider stays REQUESTED and refuses the retry there; auto: it has agreed
    already, and refuses the retry in AGREED. Either way the consumer carries on."""
    _, provider_dir, member_dir = folders
    provider_config, member_config = load(provider_dir), load(member_dir)
    save(dataclasses.replace(provider_config, provider_decisions=provider_decisions))
    save(dataclasses.replace(member_config, consumer_decisions="manual"))
    try:
        async with serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
            proxy = LossyProxy(provider.public)
            async with proxy as proxied:
                air = await publish(http, provider, provider_dir / "data/air.csv", f"Air ({provider_decisions})", "open")
                dataset_id, offer = await dataset_offer(member, provider, air["id"])
                # terms of our own (another offer id): an automatic provider counter-offers its own
                asked = {**offer, "@id": f"urn:uuid:other-terms-{provider_decisions}"}
                started = await api(http, member, "POST", "/negotiations", {
                    "providerAddress": f"{proxied}/dsp", "providerId": provider.did,
                    "datasetId": dataset_id, "offer": asked})
                theirs = await providers_view(http, provider, started["consumerPid"], "REQUESTED" if provider_decisions == "manual" else "OFFERED")
                if provider_decisions == "manual":
                    assert theirs["state"] == "REQUESTED"
                    await api(http, provider, "POST", f"/negotiations/{theirs['id']}/offer", {})
                ours = await until(http, member, started["id"], "OFFERED")
                assert ours["state"] == "OFFERED", ours

                # the counter-request: delivered, its answer lost, retried and refused
                countered = await api(http, member, "POST", f"/negotiations/{ours['id']}/offer", {"offer": ours["offer"]})
                assert countered["state"] == "REQUESTED"
                deadline = time.monotonic() + 15
                retried = []
                while len(retried) < 2 and time.monotonic() < deadline:
                    retried = [s for m, p, s in proxy.seen if m == "POST" and p.endswith(f"{theirs['id']}/request")]
                    await asyncio.sleep(0.05)
                assert retried == [None, 400], proxy.seen  # the second attempt is refused by DSP's rules
                asked_state = [p for m, p, s in proxy.seen if m == "GET" and p.endswith(f"/negotiations/{theirs['id']}")]
                deadline = time.monotonic() + 5
                while not asked_state and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                    asked_state = [p for m, p, s in proxy.seen if m == "GET" and p.endswith(f"/negotiations/{theirs['id']}")]
                await asyncio.sleep(0.3)  # what the sender does with the answer
                expected = "REQUESTED" if provider_decisions == "manual" else "AGREED"
                assert (await until(http, member, ours["id"], expected, timeout=5))["state"] == expected
                assert (await providers_view(http, provider, started["consumerPid"], expected))["state"] == expected

                # and on to the end on both sides
                if provider_decisions == "manual":
                    await api(http, provider, "POST", f"/negotiations/{theirs['id']}/agree")
                    assert (await until(http, member, ours["id"], "AGREED"))["state"] == "AGREED"
                await api(http, member, "POST", f"/negotiations/{ours['id']}/agree")  # verify
                if provider_decisions == "manual":
                    assert (await providers_view(http, provider, started["consumerPid"], "VERIFIED"))["state"] == "VERIFIED"
                    await api(http, provider, "POST", f"/negotiations/{theirs['id']}/agree")  # finalize
                done = await until(http, member, ours["id"], "FINALIZED")
                assert done["state"] == "FINALIZED", done
                final = await providers_view(http, provider, started["consumerPid"], "FINALIZED")
                assert final["state"] == "FINALIZED" and final["agreementId"] == done["agreementId"]
                assert proxy.dropped == 1
    finally:
        save(provider_config)
        save(member_config)


async def test_an_opening_request_whose_answer_was_lost_is_not_the_end(folders):
    """The provider agrees at once, so the retried opening request finds it AGREED and is
    refused; by then its agreement told the consumer the provider's pid, and the consumer asks.
    (The consumer's operator verifies, so that the process is still open when the retry goes.)"""
    _, provider_dir, member_dir = folders
    member_config = load(member_dir)
    save(dataclasses.replace(member_config, consumer_decisions="manual"))
    try:
        async with serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
            proxy = LossyProxy(provider.public, opening=True)
            async with proxy as proxied:
                air = await publish(http, provider, provider_dir / "data/air.csv", "Air (opening)", "open")
                dataset_id, offer = await dataset_offer(member, provider, air["id"])
                started = await api(http, member, "POST", "/negotiations", {
                    "providerAddress": f"{proxied}/dsp", "providerId": provider.did,
                    "datasetId": dataset_id, "offer": offer})
                assert (await until(http, member, started["id"], "AGREED"))["state"] == "AGREED"

                def openings() -> list:
                    return [s for m, p, s in proxy.seen if m == "POST" and p.endswith("/negotiations/request")]

                deadline = time.monotonic() + 10
                while len(openings()) < 2 and time.monotonic() < deadline:  # the retry, after its backoff
                    await asyncio.sleep(0.05)
                assert openings() == [None, 400], proxy.seen
                await asyncio.sleep(0.5)  # the sender asks how it went, and must not end the process
                assert (await api(http, member, "GET", f"/negotiations/{started['id']}"))["state"] == "AGREED"
                assert any(m == "GET" and "/negotiations/urn:" in p for m, p, _ in proxy.seen), proxy.seen
                await api(http, member, "POST", f"/negotiations/{started['id']}/agree")  # verify
                done = await until(http, member, started["id"], "FINALIZED")
                assert done["state"] == "FINALIZED", (done, proxy.seen)
                final = await providers_view(http, provider, started["consumerPid"], "FINALIZED")
                assert final["state"] == "FINALIZED" and final["agreementId"] == done["agreementId"]
    finally:
        save(member_config)
