"""Addresses other parties choose, between real nodes over real HTTP: a callbackAddress or a
PUSH endpoint the node may not reach, or that is not the caller's, is refused with a DSP
error before anything is stored; a DID that cannot be resolved gets one and the same 401
reason whatever the target (an open port, a closed one, an unknown host, a hostile document);
a node with a public address reaches neither its own host nor private ranges."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time

import pytest
from aiohttp import web

from connector.auth.client import authorization, dsp_request
from connector.config import load, save
from connector.identity.addresses import AddressPolicy
from connector.identity.did import Signer, did_web_from_url, node_did_document
from connector.identity.keys import generate_key
from tests.conftest import serving as serving_app
from tests.nodes import client, free_port, init_federation, init_node, publish, serving

CTX = ["https://w3id.org/dspace/2025/1/context.jsonld"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return init_federation(tmp_path_factory)


@pytest.fixture(scope="module")
def public_folder(tmp_path_factory):
    """A node whose public URL is not on loopback (it still listens on 127.0.0.1)."""
    folder = init_node(tmp_path_factory.mktemp("public"), name="Public Body")
    config = load(folder)
    save(dataclasses.replace(config, public_url=f"http://public.test:{config.public_port}"))
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data/air.csv").write_text("station,pm10\nA,12\n")
    return folder


async def agreed(http, consumer, provider, dataset_id) -> str:
    body = {"providerUrl": provider.public, "datasetId": dataset_id}
    async with http.post(f"{consumer.management}/api/v1/negotiations", json=body, headers=consumer.auth) as response:
        started = await response.json()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        async with http.get(f"{consumer.management}/api/v1/negotiations/{started['id']}", headers=consumer.auth) as response:
            found = await response.json()
        if found["state"] == "FINALIZED":
            return found["agreementId"]
        await asyncio.sleep(0.1)
    raise AssertionError(f"not agreed: {found}")


async def count(http, node, what: str) -> int:
    async with http.get(f"{node.management}/api/v1/{what}", headers=node.auth) as response:
        return len((await response.json())["items"])


async def post(caller, url: str, body: dict, audience: str | None = None) -> tuple[int, dict]:
    node = caller.running.node
    async with dsp_request(node.session, "POST", url, signer=node.signer, audience_did=audience, json=body) as response:
        return response.status, await response.json(content_type=None)


def bad_addresses(provider, member) -> dict[str, str]:
    """Addresses a caller (the member) must not have the provider send to, and why."""
    return {
        "file:///etc/passwd": "http(s) URL",
        "gopher://127.0.0.1:25/x": "http(s) URL",
        f"http://user:secret@{member.public.removeprefix('http://')}/dsp/callback": "credentials",
        "http://10.0.0.1/callback": "may connect to",
        "http://169.254.169.254/latest/meta-data": "may connect to",
        "http://[::ffff:10.0.0.1]/callback": "may connect to",
        "http://unknown-host.invalid/callback": "may connect to",
        f"{provider.public}/dsp/callback": "not an endpoint of",  # reachable, but not the caller's
        f"{provider.management}/api/v1/datasets": "not an endpoint of",
    }


async def test_dsp_addresses_are_checked_before_anything_is_stored(folders):
    _, provider_dir, member_dir = folders
    async with serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
        dataset = await publish(http, provider, provider_dir / "data/air.csv")
        offer = {**dataset["offers"][0], "target": dataset["iri"]}
        request = {"@context": CTX, "@type": "ContractRequestMessage", "offer": offer}
        for n, (address, why) in enumerate(bad_addresses(provider, member).items()):
            status, body = await post(member, f"{provider.public}/dsp/negotiations/request",
                                      {**request, "consumerPid": f"urn:uuid:bad-{n}", "callbackAddress": address})
            assert status == 400 and body["@type"] == "ContractNegotiationError", (address, body)
            assert "callbackAddress" in body["reason"][0] and why in body["reason"][0], (address, body)
        assert await count(http, provider, "negotiations") == 0

        agreement = await agreed(http, member, provider, dataset["id"])  # its own callback is fine
        transfer = {"@context": CTX, "@type": "TransferRequestMessage", "agreementId": agreement,
                    "format": "HttpData-PULL", "callbackAddress": f"{member.public}/dsp/callback"}
        for n, (address, why) in enumerate(bad_addresses(provider, member).items()):
            pull = {**transfer, "consumerPid": f"urn:uuid:pull-{n}", "callbackAddress": address}
            endpoint = {"@type": "DataAddress", "endpointType": "https://w3id.org/idsa/v4.1/HTTP", "endpoint": address}
            push = {**transfer, "consumerPid": f"urn:uuid:push-{n}", "format": "HttpData-PUSH", "dataAddress": endpoint}
            for body, field in ((pull, "callbackAddress"), (push, "dataAddress endpoint")):
                if field != "callbackAddress" and why == "not an endpoint of":
                    continue  # a PUSH endpoint may be anywhere the node may reach
                status, answer = await post(member, f"{provider.public}/dsp/transfers/request", body)
                assert status == 400 and answer["@type"] == "TransferError", (address, answer)
                assert answer["reason"][0].startswith(field) and why in answer["reason"][0], (address, answer)
        assert await count(http, provider, "transfers") == 0


async def test_a_node_with_a_public_address_reaches_no_loopback_or_private_address(folders, public_folder):
    _, _, member_dir = folders
    async with serving(public_folder) as public, serving(member_dir) as member, client() as http:
        node = public.running.node
        wired = node.resolver.policy
        # a test has no public address to offer: the member knows the public node's DID
        # document, and for a moment the public node resolves the member's loopback DID;
        # where it sends is still its own policy: public addresses only
        member.running.node.resolver.pin(node_did_document(node.did, node.keys, node.config.public_url))
        node.resolver.policy = AddressPolicy(allow_loopback=True)
        dataset = await publish(http, public, public_folder / "data/air.csv")
        offer = {**dataset["offers"][0], "target": dataset["iri"]}
        request = {"@context": CTX, "@type": "ContractRequestMessage", "consumerPid": "urn:uuid:c",
                   "offer": offer, "callbackAddress": f"{member.public}/dsp/callback"}
        status, body = await post(member, f"{public.public}/dsp/negotiations/request", request, public.did)
        assert status == 400 and "may connect to" in body["reason"][0], body
        assert await count(http, public, "negotiations") == 0

        # as it was started, its resolver refuses loopback DIDs too
        node.resolver.policy = wired
        node.resolver.forget()
        assert wired == AddressPolicy()  # from its config (connector/node.py)
        request["consumerPid"] = "urn:uuid:c2"
        status, body = await post(member, f"{public.public}/dsp/negotiations/request", request, public.did)
        assert status == 401 and member.did in body["reason"][0], body


def _reason(status: int, body: dict, did: str) -> str:
    assert status == 401, body
    return body["reason"][0].replace(did, "DID")


async def test_an_unresolvable_did_reads_the_same_whatever_the_target(folders):
    _, provider_dir, _ = folders
    nested = json.dumps({"id": "ID", "x": "NEST"}).replace('"NEST"', "[" * 20_000 + "]" * 20_000)

    async def hostile(request: web.Request) -> web.Response:
        did = did_web_from_url(f"http://{request.host}")
        return web.Response(text=nested.replace("ID", did), content_type="application/json")

    app = web.Application()
    app.router.add_get("/.well-known/did.json", hostile)
    async with serving(provider_dir) as provider, serving_app(app) as hostile_base, client() as http:
        dids = [did_web_from_url(f"http://127.0.0.1:{free_port()}"),  # nothing listens
                did_web_from_url(provider.management),  # something listens: a 401 of its own
                "did:web:unknown-host.invalid", "did:web:10.0.0.1%3A8080",
                did_web_from_url(hostile_base)]  # a document made to break a parser
        reasons = set()
        for did in dids:
            token = authorization(Signer(generate_key("Ed25519"), f"{did}#key-ed25519"), provider.did)
            async with http.post(f"{provider.public}/dsp/negotiations/request", json={},
                                 headers={"Authorization": f"Bearer {token}"}) as response:
                reasons.add(_reason(response.status, await response.json(), did))
        assert len(reasons) == 1, reasons
        assert not re.search(r"HTTP|[Rr]efused|[Tt]ime|JSON|[Cc]onnect|large|valid:", reasons.pop())
