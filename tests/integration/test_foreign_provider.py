"""Our node as the consumer of a provider that is not a communs node: a small DSP 2025-1
provider written here from the specifications (a did:web of its own, a DCP credential service,
the HTTPS binding). It does not sign its agreements (DSP asks for no signature) and its catalog
names no publisher nor assigner (DSP asks for neither): our node still reaches FINALIZED, takes
the provider's DID from its `/.well-known/did.json`, and records that only the provider's DCP
token vouched for the agreement."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connector.auth.tokens import issue_id_token
from connector.cli.main import main
from connector.identity.did import Signer, did_web_from_url
from connector.identity.jose import issue_vp_jwt
from connector.identity.keys import generate_key
from tests.nodes import client, free_port, init_node, serving

DSP = "https://w3id.org/dspace/2025/1/context.jsonld"
DCP = "https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"
DATASET = "urn:uuid:foreign-dataset-1"
OFFER = {"@id": "urn:uuid:foreign-offer-1", "@type": "Offer", "permission": [{"action": "use"}]}


@dataclass
class ForeignProvider:
    """A DSP provider that agrees to every request with an unsigned agreement."""

    base: str
    consumer_did: str
    key: Any = field(default_factory=lambda: generate_key("Ed25519"))
    received: list[str] = field(default_factory=list)
    tasks: list[asyncio.Task] = field(default_factory=list)

    @property
    def did(self) -> str:
        return did_web_from_url(self.base)

    @property
    def signer(self) -> Signer:
        return Signer(self.key, f"{self.did}#key-1")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/did.json", self.did_document)
        app.router.add_get("/.well-known/dspace-version", self.versions)
        app.router.add_post("/credentials/presentations/query", self.presentations)
        app.router.add_get("/dsp/catalog/datasets/{id}", self.dataset)
        app.router.add_post("/dsp/negotiations/request", self.request)
        app.router.add_post("/dsp/negotiations/{pid}/agreement/verification", self.verification)
        return app

    async def did_document(self, _: web.Request) -> web.Response:
        method = {"id": f"{self.did}#key-1", "type": "JsonWebKey2020", "controller": self.did,
                  "publicKeyJwk": self.key.public_jwk()}
        return web.json_response({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
            "id": self.did, "verificationMethod": [method],
            "authentication": [method["id"]], "assertionMethod": [method["id"]],
            "service": [{"id": f"{self.did}#cs", "type": "CredentialService",
                         "serviceEndpoint": f"{self.base}/credentials"}]})

    async def versions(self, _: web.Request) -> web.Response:
        return web.json_response({"protocolVersions": [{"version": "2025-1", "path": "/dsp", "binding": "HTTPS"}]})

    async def presentations(self, _: web.Request) -> web.Response:
        vp = issue_vp_jwt({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                           "verifiableCredential": [], "iat": int(time.time()), "exp": int(time.time()) + 300},
                          self.signer, audience=self.consumer_did)
        return web.json_response({"@context": [DCP], "type": "PresentationResponseMessage", "presentation": [vp]})

    async def dataset(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != DATASET:
            return web.json_response({"@context": [DSP], "@type": "CatalogError", "code": "404"}, status=404)
        # neither dct:publisher nor the offer's assigner: DSP requires neither
        return web.json_response({"@context": [DSP], "@id": DATASET, "@type": "Dataset", "hasPolicy": [OFFER],
                                  "distribution": [{"@type": "Distribution", "format": "HttpData-PULL",
                                                    "accessService": {"@id": "urn:uuid:svc", "@type": "DataService",
                                                                      "endpointURL": f"{self.base}/dsp"}}]})

    async def _post(self, url: str, body: dict[str, Any]) -> None:
        token = issue_id_token(self.signer, self.consumer_did, access_token="grant-" + uuid.uuid4().hex)
        async with aiohttp.ClientSession() as session, session.post(url, json=body, headers={"Authorization": token}) as r:
            self.received.append(f"{body['@type']} -> {r.status}")

    async def request(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body["@type"])
        cpid, ppid, callback = body["consumerPid"], f"urn:uuid:{uuid.uuid4()}", body["callbackAddress"]
        agreement = {"@context": [DSP], "@type": "ContractAgreementMessage", "consumerPid": cpid, "providerPid": ppid,
                     "agreement": {"@id": "urn:uuid:foreign-agreement-1", "@type": "Agreement", "target": DATASET,
                                   "assigner": self.did, "assignee": self.consumer_did,
                                   "timestamp": "2026-01-01T00:00:00Z", "permission": OFFER["permission"]}}

        async def later() -> None:
            await asyncio.sleep(0.2)
            await self._post(f"{callback}/negotiations/{cpid}/agreement", agreement)

        self.tasks.append(asyncio.create_task(later()))
        self.pids = (cpid, ppid, callback)
        return web.json_response({"@context": [DSP], "@type": "ContractNegotiation", "consumerPid": cpid,
                                  "providerPid": ppid, "state": "REQUESTED"}, status=201)

    async def verification(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body["@type"])
        cpid, ppid, callback = self.pids
        event = {"@context": [DSP], "@type": "ContractNegotiationEventMessage", "consumerPid": cpid,
                 "providerPid": ppid, "eventType": "FINALIZED"}
        self.tasks.append(asyncio.create_task(self._post(f"{callback}/negotiations/{cpid}/events", event)))
        return web.json_response({"@context": [DSP], "@type": "ContractNegotiation", "consumerPid": cpid,
                                  "providerPid": ppid, "state": "VERIFIED"})


@pytest.fixture(scope="module")
def consumer_dir(tmp_path_factory):
    return init_node(tmp_path_factory.mktemp("consumer"))


async def test_an_unsigned_agreement_from_a_foreign_provider_is_finalized(consumer_dir, capsys):
    async with serving(consumer_dir) as consumer, client() as http:
        port = free_port()
        provider = ForeignProvider(f"http://127.0.0.1:{port}", consumer.did)
        runner = web.AppRunner(provider.app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            body = {"providerUrl": provider.base, "datasetId": DATASET}
            async with http.post(f"{consumer.management}/api/v1/negotiations", json=body, headers=consumer.auth) as r:
                assert r.status == 201, await r.text()
                started = await r.json()
            # the provider's DID, from its /.well-known/did.json: the catalog named none
            assert started["counterparty"] == provider.did
            deadline = time.monotonic() + 20
            while True:
                async with http.get(f"{consumer.management}/api/v1/negotiations/{started['id']}", headers=consumer.auth) as r:
                    found = await r.json()
                if found["state"] in ("FINALIZED", "TERMINATED") or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert found["state"] == "FINALIZED", (found, provider.received)
            assert "ContractAgreementMessage -> 200" in provider.received
            assert found["agreementId"] == "urn:uuid:foreign-agreement-1"
            assert found["agreementAuthentication"] == "caller-token"
            # the CLI shows it too
            capsys.readouterr()
            argv = ["negotiations", "show", started["id"], "--dir", str(consumer_dir)]
            assert await asyncio.to_thread(main, argv) == 0
            shown = capsys.readouterr().out
            assert "agreementAuthentication" in shown and "caller-token" in shown
        finally:
            for task in provider.tasks:
                task.cancel()
            await runner.cleanup()


async def test_a_negotiation_on_an_offer_already_held_reads_no_catalog(consumer_dir):
    """The operator names the provider's DSP address, its id and the offer: the node asks for
    it without reading the catalog (a DSP counterpart need not serve its catalog to us)."""
    async with serving(consumer_dir) as consumer, client() as http:
        port = free_port()
        provider = ForeignProvider(f"http://127.0.0.1:{port}", consumer.did)
        runner = web.AppRunner(provider.app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        url = f"{consumer.management}/api/v1/negotiations"
        try:
            body = {"providerAddress": f"{provider.base}/dsp", "providerId": provider.did, "datasetId": DATASET}
            for bad in ({**body, "offer": {"@id": "urn:uuid:o"}},  # no rule: not a DSP offer
                        {**body, "offer": "urn:uuid:o"},
                        {k: v for k, v in {**body, "offer": OFFER}.items() if k != "providerId"},
                        {**body, "providerAddress": "ftp://x", "offer": OFFER}):
                async with http.post(url, json=bad, headers=consumer.auth) as r:
                    assert r.status == 400, await r.text()
            async with http.post(url, json={**body, "offer": OFFER}, headers=consumer.auth) as r:
                assert r.status == 201, await r.text()
                started = await r.json()
            assert started["counterparty"] == provider.did and started["offer"]["@id"] == OFFER["@id"]
            deadline = time.monotonic() + 20
            while True:
                async with http.get(f"{url}/{started['id']}", headers=consumer.auth) as r:
                    found = await r.json()
                if found["state"] in ("FINALIZED", "TERMINATED") or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert found["state"] == "FINALIZED", (found, provider.received)
            assert "ContractRequestMessage" in provider.received
        finally:
            for task in provider.tasks:
                task.cancel()
            await runner.cleanup()
