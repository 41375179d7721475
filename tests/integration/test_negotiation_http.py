"""DSP 2025-1 contract negotiation between real nodes over real HTTP: a trust anchor, a
provider and a member. Open data is agreed automatically; members-only data is agreed for a
member and refused to anyone else; bad input gets a DSP error and changes nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import pytest

from connector.auth.client import dsp_request
from connector.config import load, save
from connector.negotiation import codec
from tests.nodes import client, init_federation, publish, serving

CTX = ["https://w3id.org/dspace/2025/1/context.jsonld"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return init_federation(tmp_path_factory)


async def negotiate(http, consumer, provider, dataset_id) -> dict:
    body = {"providerUrl": provider.public, "datasetId": dataset_id}
    async with http.post(f"{consumer.management}/api/v1/negotiations", json=body, headers=consumer.auth) as response:
        assert response.status == 201, await response.text()
        return await response.json()


async def settled(http, node, negotiation_id, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        async with http.get(f"{node.management}/api/v1/negotiations/{negotiation_id}", headers=node.auth) as response:
            found = await response.json()
        if found["state"] in ("FINALIZED", "TERMINATED") or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


async def provider_side(http, provider, consumer_pid) -> dict:
    async with http.get(f"{provider.management}/api/v1/negotiations", headers=provider.auth) as response:
        items = (await response.json())["items"]
    return next(n for n in items if n["consumerPid"] == consumer_pid)


def post(node, url, body):
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {"Content-Type": "application/json"}
    return dsp_request(node.running.node.session, "POST", url, signer=node.running.node.signer, data=data, headers=headers)


async def test_negotiations_between_real_nodes(folders):
    anchor_dir, provider_dir, member_dir = folders
    async with serving(anchor_dir) as anchor, serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
        air = await publish(http, provider, provider_dir / "data/air.csv", "Air quality 2025", "open")
        traffic = await publish(http, provider, provider_dir / "data/traffic.csv", "Traffic counts", "members")
        # the federation authority makes ACME a member (the provider caches credentials a minute)
        issue = {"subject": member.did, "type": "MembershipCredential", "claims": {"role": "member"}}
        async with http.post(f"{anchor.management}/api/v1/credentials/issue", json=issue, headers=anchor.auth) as response:
            token = (await response.json())["credential"]
        async with http.post(f"{member.management}/api/v1/credentials", data=token, headers=member.auth) as response:
            assert response.status == 201

        # open data: agreed, verified and finalized on both sides without anyone deciding
        started = await negotiate(http, member, provider, air["id"])
        assert started["state"] == "REQUESTED" and started["role"] == "CONSUMER"
        done = await settled(http, member, started["id"])
        assert done["state"] == "FINALIZED", (done, await provider_side(http, provider, started["consumerPid"]))
        agreement = done["agreement"]
        assert done["agreementId"] == agreement["@id"]
        assert agreement["assigner"] == provider.did and agreement["assignee"] == member.did
        assert agreement["@type"] == "Agreement" and agreement["permission"]
        theirs = await settled(http, provider, (await provider_side(http, provider, started["consumerPid"]))["id"])
        assert theirs["state"] == "FINALIZED" and theirs["agreementId"] == done["agreementId"]
        assert theirs["counterparty"] == member.did

        # members-only: not visible, hence refused, to a caller without a membership credential
        traffic_offer = {**traffic["offers"][0], "target": traffic["iri"]}
        request = {"@context": CTX, "@type": "ContractRequestMessage", "consumerPid": "urn:uuid:stranger-1",
                   "offer": traffic_offer, "callbackAddress": f"{anchor.public}/dsp/callback"}
        async with post(anchor, f"{provider.public}/dsp/negotiations/request", request) as response:
            assert response.status == 201, await response.text()
            refused = await response.json()
        assert refused["state"] == "TERMINATED" and not codec.problems("ContractNegotiation", refused)
        # the same opening message again cannot reopen it; a termination again is a no-op (200) ...
        async with post(anchor, f"{provider.public}/dsp/negotiations/request", request) as response:
            assert response.status == 400, await response.text()
        termination = {"@context": CTX, "@type": "ContractNegotiationTerminationMessage",
                       "providerPid": refused["providerPid"], "consumerPid": "urn:uuid:stranger-1"}
        url = f"{provider.public}/dsp/negotiations/{refused['providerPid']}/termination"
        for _ in range(2):
            async with post(anchor, url, termination) as response:
                assert response.status == 200, await response.text()
                assert (await response.json())["state"] == "TERMINATED"

        # ... and for a member it is agreed
        started = await negotiate(http, member, provider, traffic["id"])
        done = await settled(http, member, started["id"])
        assert done["state"] == "FINALIZED", done
        assert done["agreement"]["target"] == traffic["iri"]

        # bad input
        pid = theirs["providerPid"]
        base = f"{provider.public}/dsp/negotiations"
        async with dsp_request(member.running.node.session, "GET", f"{base}/{pid}", signer=member.running.node.signer) as response:
            assert response.status == 200 and (await response.json())["state"] == "FINALIZED"
        async with dsp_request(member.running.node.session, "GET", f"{base}/urn:uuid:nope", signer=member.running.node.signer) as response:
            assert response.status == 404
            assert not codec.problems("ContractNegotiationError", await response.json())
        async with dsp_request(anchor.running.node.session, "GET", f"{base}/{pid}", signer=anchor.running.node.signer) as response:
            assert response.status == 404  # someone else's negotiation
        verification = {"@context": CTX, "@type": "ContractAgreementVerificationMessage",
                        "providerPid": pid, "consumerPid": theirs["consumerPid"]}
        async with post(member, f"{base}/{pid}/agreement/verification", verification) as response:
            assert response.status == 400  # FINALIZED: no verification any more
            assert (await response.json())["@type"] == "ContractNegotiationError"
        async with post(anchor, f"{base}/{pid}/agreement/verification", verification) as response:
            assert response.status == 404
        async with post(member, f"{base}/{pid}/termination", "{not json") as response:
            assert response.status == 400
        async with post(member, f"{base}/{pid}/termination", {"@context": CTX, "@type": "ContractNegotiationTerminationMessage"}) as response:
            assert response.status == 400  # schema-invalid: no pids
        async with post(member, f"{base}/request", {**request, "offer": {"@type": "Offer"}}) as response:
            assert response.status == 400
        async with http.post(f"{base}/request", json=request) as response:
            assert response.status == 401
        async with http.get(f"{base}/{pid}") as response:
            assert response.status == 401
        assert (await provider_side(http, provider, theirs["consumerPid"]))["state"] == "FINALIZED"

        # the management API: list, show, terminate a finished one (refused), unknown id
        async with http.get(f"{member.management}/api/v1/negotiations?role=CONSUMER", headers=member.auth) as response:
            assert len((await response.json())["items"]) == 2
        async with http.post(f"{member.management}/api/v1/negotiations/{started['id']}/terminate", headers=member.auth) as response:
            assert response.status == 400
        async with http.get(f"{member.management}/api/v1/negotiations/nope", headers=member.auth) as response:
            assert response.status == 404


async def test_cli_negotiate_wait_json(folders, capsys):
    from connector.cli.main import main

    anchor_dir, provider_dir, member_dir = folders
    # the anchor serves too: the provider resolves the issuer of the member's credential
    async with serving(anchor_dir), serving(provider_dir) as provider, serving(member_dir), client() as http:
        air = await publish(http, provider, provider_dir / "data/air.csv", "Air quality CLI", "open")
        capsys.readouterr()
        argv = ["negotiate", provider.public, air["id"], "--wait", "--json", "--dir", str(member_dir)]
        assert await asyncio.to_thread(main, argv) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["state"] == "FINALIZED" and shown["agreementId"]
        assert await asyncio.to_thread(main, ["negotiations", "show", shown["id"], "--json", "--dir", str(member_dir)]) == 0
        assert json.loads(capsys.readouterr().out)["agreementId"] == shown["agreementId"]
        assert await asyncio.to_thread(main, ["negotiations", "list", "--dir", str(member_dir)]) == 0
        capsys.readouterr()
        assert await asyncio.to_thread(main, ["negotiations", "terminate", shown["id"], "--dir", str(member_dir)]) == 1
        assert "not allowed" in capsys.readouterr().err
        assert await asyncio.to_thread(main, ["negotiate", provider.public, "nope", "--dir", str(member_dir)]) == 1


async def until(http, node, negotiation_id, state, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        async with http.get(f"{node.management}/api/v1/negotiations/{negotiation_id}", headers=node.auth) as response:
            found = await response.json()
        if found["state"] == state or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_manual_provider_decisions_with_the_cli(folders, capsys):
    """The provider's operator counter-offers, agrees and finalizes from the CLI; the
    consumer accepts the offer on its own because it is what it asked for."""
    from connector.cli.main import main

    anchor_dir, provider_dir, member_dir = folders
    automatic = load(provider_dir)
    save(dataclasses.replace(automatic, provider_decisions="manual"))

    def cli(*argv: str) -> dict | list:
        assert main([*argv, "--json", "--dir", str(provider_dir)]) == 0
        return json.loads(capsys.readouterr().out)

    try:
        async with serving(anchor_dir), serving(provider_dir) as provider, serving(member_dir) as member, client() as http:
            air = await publish(http, provider, provider_dir / "data/air.csv", "Air quality by hand", "open")
            started = await negotiate(http, member, provider, air["id"])
            capsys.readouterr()
            deadline = time.monotonic() + 10
            while not (pending := await asyncio.to_thread(cli, "negotiations", "list", "--pending")) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            ours = next(n for n in pending if n["consumerPid"] == started["consumerPid"])
            assert ours["state"] == "REQUESTED"
            assert (await asyncio.to_thread(cli, "negotiations", "offer", ours["id"]))["state"] == "OFFERED"
            assert (await until(http, provider, ours["id"], "ACCEPTED"))["state"] == "ACCEPTED"
            assert (await asyncio.to_thread(cli, "negotiations", "agree", ours["id"]))["state"] == "AGREED"
            assert (await until(http, provider, ours["id"], "VERIFIED"))["state"] == "VERIFIED"
            finalized = await asyncio.to_thread(cli, "negotiations", "agree", ours["id"])
            assert finalized["state"] == "FINALIZED" and finalized["agreementId"]
            done = await settled(http, member, started["id"])
            assert done["state"] == "FINALIZED" and done["agreementId"] == finalized["agreementId"]
            assert await asyncio.to_thread(main, ["negotiations", "agree", ours["id"], "--dir", str(provider_dir)]) == 1
            assert "nothing to agree to in state FINALIZED" in capsys.readouterr().err
            # bad input to the operator's endpoints: a clear problem, nothing changes
            base = f"{provider.management}/api/v1/negotiations"
            for path, body, status in ((f"{base}/{ours['id']}/offer", {"offer": "not an object"}, 400),
                                       (f"{base}/{ours['id']}/offer", [1, 2], 400),
                                       (f"{base}/urn:uuid:unknown/agree", None, 404),
                                       (f"{base}/urn:uuid:unknown/offer", {}, 404)):
                async with http.post(path, json=body, headers=provider.auth) as response:
                    assert response.status == status, await response.text()
                    assert response.content_type == "application/problem+json"
            assert (await until(http, provider, ours["id"], "FINALIZED"))["state"] == "FINALIZED"
    finally:
        save(automatic)
