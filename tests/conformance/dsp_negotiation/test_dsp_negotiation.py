"""DSP 2025-1 contract negotiation over real HTTP on 127.0.0.1: all 31 CN (our node is the
provider) and CN_C (our node is the consumer) scenarios of the TCK test plan, each named in a
test. Where the kit's script needs our node to wait (a request left open, an offer not yet
accepted), the node runs with manual decisions and the test takes the operator's part.

The test plays the test kit: it sends what the kit sends, records what our node sends back to
the kit's own endpoint, and checks every body against the vendored DSP schemas. A stand-in for
the DCP middleware takes the caller's DID from a test header; identities are did:key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connector.auth.caller import CALLER, Caller
from connector.catalog.resources import CATALOG
from connector.catalog.service import CatalogService
from connector.catalog.sql import SqlCatalogStore
from connector.errors import ConnectorError
from connector.identity.callbacks import Callbacks
from connector.identity.did import Signer
from connector.identity.jose import sign_jwt
from connector.identity.keys import generate_key
from connector.identity.resolver import DidResolver
from connector.negotiation import codec, routes
from connector.negotiation.manager import NEGOTIATIONS, Manager
from connector.negotiation.model import MessageKind, Role, start
from connector.negotiation.service import NegotiationService, now, summary
from connector.negotiation.sql import SqlNegotiationStore
from tests.conftest import open_test_database

CTX = [codec.DSP_CONTEXT]
ANCHOR = "did:web:anchor.example"
KIT = Signer.for_did_key(generate_key("Ed25519"))


@web.middleware
async def fake_dcp(request: web.Request, handler):
    did = request.headers.get("X-Test-Caller")
    credentials = ({"type": ["VerifiableCredential", "MembershipCredential"], "issuer": ANCHOR},) if request.headers.get("X-Test-Member") else ()
    request[CALLER] = Caller(did, credentials) if did else None
    if request[CALLER] is None and request.path.startswith("/dsp/"):
        return web.json_response(codec.error_json(401, "authenticate"), status=401)
    return await handler(request)


def _listener() -> tuple[socket.socket, str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


@dataclass
class Kit:
    """The test kit's endpoint: records what our node sends it."""

    base: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pid: str = "urn:uuid:kit-provider-1"
    down: int = 0  # answer 503 to that many requests first

    async def handle(self, request: web.Request) -> web.Response:
        if self.down > 0:
            self.down -= 1
            return web.Response(status=503)
        body = await request.json()
        self.received.append((request.path, body))
        if request.path.endswith("/negotiations/request") and body.get("@type") == "ContractRequestMessage":
            return web.json_response({"@context": CTX, "@type": "ContractNegotiation", "providerPid": self.pid,
                                      "consumerPid": body["consumerPid"], "state": "REQUESTED"}, status=201)
        return web.json_response({"@context": CTX, "@type": "ContractNegotiation", "providerPid": self.pid,
                                  "consumerPid": body.get("consumerPid", ""), "state": "REQUESTED"})

    async def got(self, dsp_type: str, event: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, body in self.received:
                if body.get("@type") == dsp_type and (event is None or body.get("eventType") == event):
                    assert not codec.problems(dsp_type, body), codec.problems(dsp_type, body)
                    return body
            await asyncio.sleep(0.05)
        raise AssertionError(f"the node sent no {dsp_type} {event or ''}: {self.received}")


@dataclass
class Node:
    base: str
    service: NegotiationService
    open_iri: str
    members_iri: str
    offers: dict[str, dict[str, Any]]


@pytest.fixture
async def setup(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "air.csv").write_text("a,b\n1,2\n")
    node_listener, base = _listener()
    kit_listener, kit_base = _listener()
    me = Signer.for_did_key(generate_key("Ed25519"))
    kit = Kit(kit_base)
    kit_app = web.Application()
    kit_app.router.add_post("/{tail:.*}", kit.handle)
    async with open_test_database("sqlite", tmp_path) as db, aiohttp.ClientSession() as session:
        catalog = CatalogService(SqlCatalogStore(db), home=tmp_path / "home", did=me.did, public_url=base,
                                 allowed_roots=[src], trust_anchors=(ANCHOR,), name="Provider")
        opened = await catalog.publish(str(src / "air.csv"), title="Air", policy="open")
        members = await catalog.publish(str(src / "air.csv"), title="Members", policy="members")
        service = NegotiationService(SqlNegotiationStore(db), did=me.did, dsp_url=base + "/dsp", signer=me,
                                     session=session, resolver=DidResolver(session), catalog=catalog,
                                     callbacks=Callbacks(DidResolver(session), origins=frozenset({kit_base})))
        app = web.Application(middlewares=[fake_dcp])
        app.add_routes(routes.public)
        app[NEGOTIATIONS] = service
        app[CATALOG] = catalog
        runners = [web.AppRunner(app), web.AppRunner(kit_app)]
        for runner, listener in zip(runners, (node_listener, kit_listener), strict=True):
            await runner.setup()
            await web.SockSite(runner, listener).start()
        sender = asyncio.create_task(Manager(service).run())
        offers = {d.iri: {**d.offer_documents()[0], "@type": "Offer", "target": d.iri} for d in (opened, members)}
        try:
            yield Node(base, service, opened.iri, members.iri, offers), kit
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            for runner in runners:
                await runner.cleanup()


async def send(url: str, body: Any, *, member: bool = False, caller: str = KIT.did) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "X-Test-Caller": caller}
    if member:
        headers["X-Test-Member"] = "1"
    data = body if isinstance(body, str) else json.dumps(body)
    async with aiohttp.ClientSession() as s, s.post(url, data=data, headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def state_of(node: Node, pid: str) -> str:
    async with aiohttp.ClientSession() as s, s.get(f"{node.base}/dsp/negotiations/{pid}", headers={"X-Test-Caller": KIT.did}) as r:
        body = await r.json()
        assert r.status == 200 and not codec.problems("ContractNegotiation", body)
        return body["state"]


def check(status: int, body: Any, expected: int, dsp_type: str) -> Any:
    assert status == expected, body
    assert not codec.problems(dsp_type, body), codec.problems(dsp_type, body)
    return body


# ---- CN: our node is the provider ---------------------------------------------------------


async def _request(node: Node, kit: Kit, iri: str, member: bool = False, cpid: str = "urn:uuid:kit-c-1",
                   offer: dict | None = None) -> dict:
    body = {"@context": CTX, "@type": "ContractRequestMessage", "consumerPid": cpid,
            "offer": offer or node.offers[iri], "callbackAddress": kit.base + "/callback"}
    status, answer = await send(f"{node.base}/dsp/negotiations/request", body, member=member)
    return check(status, answer, 201, "ContractNegotiation")


async def test_cn_01_04_request_agreement_verified_finalized(setup):
    node, kit = setup
    answer = await _request(node, kit, node.open_iri)
    pid, cpid = answer["providerPid"], answer["consumerPid"]
    # the request and the provider's decision were saved together: no crash can split them
    assert answer["state"] == "AGREED" and (await node.service.store.get(pid)).version == 1
    agreement = await kit.got("ContractAgreementMessage")
    assert kit.received[0][0] == f"/callback/negotiations/{cpid}/agreement"
    assert agreement["agreement"]["assignee"] == KIT.did and agreement["agreement"]["target"] == node.open_iri
    assert isinstance(agreement[codec.SIGNATURE], str)
    assert await state_of(node, pid) == "AGREED"
    verification = {"@context": CTX, "@type": "ContractAgreementVerificationMessage", "providerPid": pid, "consumerPid": cpid}
    status, body = await send(f"{node.base}/dsp/negotiations/{pid}/agreement/verification", verification)
    check(status, body, 200, "ContractNegotiation")
    await kit.got("ContractNegotiationEventMessage", "FINALIZED")
    assert await state_of(node, pid) == "FINALIZED"
    # CN:03-01: a termination after FINALIZED is refused and changes nothing
    termination = {"@context": CTX, "@type": "ContractNegotiationTerminationMessage", "providerPid": pid, "consumerPid": cpid}
    status, body = await send(f"{node.base}/dsp/negotiations/{pid}/termination", termination)
    check(status, body, 400, "ContractNegotiationError")
    # a verification again is also refused (FINALIZED is not VERIFIED)
    status, body = await send(f"{node.base}/dsp/negotiations/{pid}/agreement/verification", verification)
    check(status, body, 400, "ContractNegotiationError")
    assert await state_of(node, pid) == "FINALIZED"


async def test_cn_02_01_request_provider_terminated(setup):
    node, kit = setup
    answer = await _request(node, kit, node.members_iri)  # not a member: refused
    assert answer["state"] == "TERMINATED"
    termination = await kit.got("ContractNegotiationTerminationMessage")
    assert termination["reason"]


async def test_cn_02_03_request_agreement_consumer_terminated(setup):
    node, kit = setup
    answer = await _request(node, kit, node.members_iri, member=True)
    pid, cpid = answer["providerPid"], answer["consumerPid"]
    await kit.got("ContractAgreementMessage")
    termination = {"@context": CTX, "@type": "ContractNegotiationTerminationMessage", "providerPid": pid,
                   "consumerPid": cpid, "code": "1", "reason": ["changed our mind"]}
    for _ in range(2):  # the second time: already applied
        status, body = await send(f"{node.base}/dsp/negotiations/{pid}/termination", termination)
        assert check(status, body, 200, "ContractNegotiation")["state"] == "TERMINATED"


async def test_cn_03_invalid_and_foreign_messages(setup):
    node, kit = setup
    answer = await _request(node, kit, node.open_iri)
    pid, cpid = answer["providerPid"], answer["consumerPid"]
    await kit.got("ContractAgreementMessage")
    accepted = {"@context": CTX, "@type": "ContractNegotiationEventMessage", "providerPid": pid, "consumerPid": cpid, "eventType": "ACCEPTED"}
    status, body = await send(f"{node.base}/dsp/negotiations/{pid}/events", accepted)
    check(status, body, 400, "ContractNegotiationError")  # ACCEPTED is no answer to an agreement
    finalized = {**accepted, "eventType": "FINALIZED"}
    status, body = await send(f"{node.base}/dsp/negotiations/{pid}/events", finalized)
    check(status, body, 400, "ContractNegotiationError")  # the consumer never finalizes
    status, body = await send(f"{node.base}/dsp/negotiations/{pid}/events", accepted, caller="did:web:other.example")
    check(status, body, 404, "ContractNegotiationError")
    status, body = await send(f"{node.base}/dsp/negotiations/urn:uuid:unknown/events", accepted)
    check(status, body, 404, "ContractNegotiationError")
    status, body = await send(f"{node.base}/dsp/negotiations/{pid}/events", "[1, 2")
    check(status, body, 400, "ContractNegotiationError")
    status, body = await send(f"{node.base}/dsp/negotiations/{pid}/events", {**accepted, "eventType": "DONE"})
    check(status, body, 400, "ContractNegotiationError")
    status, body = await send(f"{node.base}/dsp/negotiations/request", {"@context": CTX, "@type": "ContractRequestMessage", "consumerPid": "x"})
    check(status, body, 400, "ContractNegotiationError")
    async with aiohttp.ClientSession() as s, s.post(f"{node.base}/dsp/negotiations/{pid}/events", json=accepted) as r:
        assert r.status == 401
    assert await state_of(node, pid) == "AGREED"


def _other_terms(offer: dict) -> dict:
    """The offer without its constraints: wider terms than offered, so they do not match."""
    return {**offer, "permission": [{k: v for k, v in p.items() if k != "constraint"} for p in offer["permission"]]}


async def _message(node: Node, pid: str, cpid: str, suffix: str, dsp_type: str, **extra: Any) -> tuple[int, Any]:
    body = {"@context": CTX, "@type": dsp_type, "providerPid": pid, "consumerPid": cpid, **extra}
    return await send(f"{node.base}/dsp/negotiations/{pid}/{suffix}", body, member=True)


async def _offered(node: Node, kit: Kit) -> tuple[str, str, dict]:
    """A member asks for wider terms than the members-only dataset's: the provider counter-offers its own."""
    answer = await _request(node, kit, node.members_iri, member=True, offer=_other_terms(node.offers[node.members_iri]))
    pid, cpid = answer["providerPid"], answer["consumerPid"]
    offer = await kit.got("ContractOfferMessage")
    assert kit.received[0][0] == f"/callback/negotiations/{cpid}/offers"
    assert offer["offer"]["target"] == node.members_iri and offer["offer"]["assigner"] == node.service.did
    assert offer["offer"]["permission"] == node.offers[node.members_iri]["permission"]
    assert await state_of(node, pid) == "OFFERED"
    return pid, cpid, offer["offer"]


async def _pending(node: Node, pid: str) -> None:
    assert pid in [n.id for n in await node.service.pending()]


@pytest.mark.parametrize("scenario", ["CN:01-01", "CN:02-04"])
async def test_cn_01_01_and_02_04_offer_received_consumer_terminated(setup, scenario):
    node, kit = setup
    pid, cpid, _ = await _offered(node, kit)
    status, body = await _message(node, pid, cpid, "termination", "ContractNegotiationTerminationMessage")
    assert check(status, body, 200, "ContractNegotiation")["state"] == "TERMINATED"


async def test_cn_01_02_offer_received_consumer_counter_offer_provider_terminated(setup):
    node, kit = setup
    pid, cpid, offer = await _offered(node, kit)
    status, body = await _message(node, pid, cpid, "request", "ContractRequestMessage", offer=_other_terms(offer))
    check(status, body, 200, "ContractNegotiation")
    termination = await kit.got("ContractNegotiationTerminationMessage")
    assert "does not match" in termination["reason"][0]
    assert await state_of(node, pid) == "TERMINATED"


async def test_cn_01_03_offer_accepted_agreement_verified_finalized(setup):
    node, kit = setup
    pid, cpid, offer = await _offered(node, kit)
    status, body = await _message(node, pid, cpid, "events", "ContractNegotiationEventMessage", eventType="ACCEPTED")
    check(status, body, 200, "ContractNegotiation")
    agreement = (await kit.got("ContractAgreementMessage"))["agreement"]
    assert agreement["permission"] == offer["permission"] and agreement["assignee"] == KIT.did
    status, body = await _message(node, pid, cpid, "agreement/verification", "ContractAgreementVerificationMessage")
    check(status, body, 200, "ContractNegotiation")
    await kit.got("ContractNegotiationEventMessage", "FINALIZED")
    assert await state_of(node, pid) == "FINALIZED"
    assert (await node.service.finalized(agreement["@id"], KIT.did)).id == pid
    assert await node.service.finalized(agreement["@id"], "did:web:other.example") is None


async def test_cn_02_02_request_consumer_terminated(setup):
    node, kit = setup
    node.service.manual = frozenset({Role.PROVIDER})
    answer = await _request(node, kit, node.open_iri)
    pid, cpid = answer["providerPid"], answer["consumerPid"]
    assert answer["state"] == "REQUESTED"
    await _pending(node, pid)
    status, body = await _message(node, pid, cpid, "termination", "ContractNegotiationTerminationMessage")
    assert check(status, body, 200, "ContractNegotiation")["state"] == "TERMINATED"
    assert pid not in [n.id for n in await node.service.pending()]


async def test_cn_02_05_offer_received_provider_terminated(setup):
    node, kit = setup
    pid, _, _ = await _offered(node, kit)
    await node.service.terminate(pid, "we withdrew the offer")
    termination = await kit.got("ContractNegotiationTerminationMessage")
    assert termination["reason"] == ["we withdrew the offer"] and termination["providerPid"] == pid


async def test_cn_02_06_offer_accepted_provider_terminated(setup):
    node, kit = setup
    node.service.manual = frozenset({Role.PROVIDER})
    answer = await _request(node, kit, node.open_iri)
    pid, cpid = answer["providerPid"], answer["consumerPid"]
    await node.service.offer(pid)  # the operator proposes the dataset's offer
    await kit.got("ContractOfferMessage")
    status, body = await _message(node, pid, cpid, "events", "ContractNegotiationEventMessage", eventType="ACCEPTED")
    assert check(status, body, 200, "ContractNegotiation")["state"] == "ACCEPTED"
    await _pending(node, pid)
    await node.service.terminate(pid)
    await kit.got("ContractNegotiationTerminationMessage")
    assert await state_of(node, pid) == "TERMINATED"


async def test_cn_02_07_agreement_verified_provider_terminated(setup):
    node, kit = setup
    node.service.manual = frozenset({Role.PROVIDER})
    answer = await _request(node, kit, node.open_iri)
    pid, cpid = answer["providerPid"], answer["consumerPid"]
    await node.service.agree(pid)
    await kit.got("ContractAgreementMessage")
    status, body = await _message(node, pid, cpid, "agreement/verification", "ContractAgreementVerificationMessage")
    assert check(status, body, 200, "ContractNegotiation")["state"] == "VERIFIED"
    await node.service.terminate(pid)
    await kit.got("ContractNegotiationTerminationMessage")
    assert await state_of(node, pid) == "TERMINATED"


async def test_cn_03_02_offer_received_invalid_consumer_verified(setup):
    node, kit = setup
    pid, cpid, _ = await _offered(node, kit)
    status, body = await _message(node, pid, cpid, "agreement/verification", "ContractAgreementVerificationMessage")
    check(status, body, 400, "ContractNegotiationError")
    assert await state_of(node, pid) == "OFFERED"


async def test_cn_03_03_offer_accepted_illegal_consumer_verified(setup):
    node, kit = setup
    node.service.manual = frozenset({Role.PROVIDER})
    answer = await _request(node, kit, node.open_iri)
    pid, cpid = answer["providerPid"], answer["consumerPid"]
    await node.service.offer(pid)
    status, body = await _message(node, pid, cpid, "events", "ContractNegotiationEventMessage", eventType="ACCEPTED")
    check(status, body, 200, "ContractNegotiation")
    status, body = await _message(node, pid, cpid, "agreement/verification", "ContractAgreementVerificationMessage")
    check(status, body, 400, "ContractNegotiationError")
    assert await state_of(node, pid) == "ACCEPTED"


async def test_cn_03_04_two_counter_requests_provider_terminated(setup):
    node, kit = setup
    pid, cpid, offer = await _offered(node, kit)
    status, body = await _message(node, pid, cpid, "request", "ContractRequestMessage", offer=_other_terms(offer))
    check(status, body, 200, "ContractNegotiation")
    await kit.got("ContractNegotiationTerminationMessage")
    status, body = await _message(node, pid, cpid, "request", "ContractRequestMessage", offer={**_other_terms(offer), "@id": "urn:uuid:x2"})
    check(status, body, 400, "ContractNegotiationError")
    assert await state_of(node, pid) == "TERMINATED"


async def test_the_operator_can_only_take_steps_allowed_now(setup):
    node, kit = setup
    pid, _, _ = await _offered(node, kit)
    with pytest.raises(ConnectorError, match="nothing to agree to in state OFFERED"):
        await node.service.agree(pid)
    assert (await node.service.offer(pid)).version == (await node.service.store.get(pid)).version  # the same: a no-op
    with pytest.raises(ConnectorError, match="not allowed in state OFFERED"):
        await node.service.offer(pid, {"@id": "urn:uuid:other", "permission": [{"action": "use"}]})
    with pytest.raises(ConnectorError, match="not a usable ODRL policy"):
        await node.service.offer(pid, {"permission": "nonsense"})
    with pytest.raises(ConnectorError, match="no negotiation"):
        await node.service.agree("urn:uuid:unknown")
    assert await state_of(node, pid) == "OFFERED"


# ---- CN_C: our node is the consumer --------------------------------------------------------


async def _consume(node: Node, kit: Kit) -> tuple[str, dict]:
    """Our node asks the kit (as provider) for the open dataset; the kit answers 201."""
    offer = {**node.offers[node.open_iri], "assigner": KIT.did}
    n = start(Role.CONSUMER, new_id="urn:uuid:our-c-1", counterparty_did=KIT.did,
              counterparty_address=kit.base + "/dsp", offer=offer, now=now())
    service = node.service
    assert await service.store.create(n, [service._outbox(n, MessageKind.CONTRACT_REQUEST, callback=True)])
    request = await kit.got("ContractRequestMessage")
    assert request["callbackAddress"] == node.base + "/dsp/callback"
    deadline = time.monotonic() + 5
    while (await service.store.get(n.id)).provider_pid is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return n.id, offer


def _agreement(node: Node, cpid: str, offer: dict, signer: Signer = KIT, **changes: Any) -> dict:
    agreement = {"@id": "urn:uuid:agreement-1", "@type": "Agreement", "permission": offer["permission"],
                 "target": node.open_iri, "assigner": KIT.did, "assignee": node.service.did,
                 "timestamp": "2026-01-01T00:00:00Z", **changes}
    jws = sign_jwt({"typ": "odrl-agreement+jws"}, {"iss": signer.did, "agreement": agreement}, signer)
    return {"@context": CTX, "@type": "ContractAgreementMessage", "providerPid": Kit.pid, "consumerPid": cpid,
            "agreement": agreement, codec.SIGNATURE: jws}


async def _our_state(node: Node, pid: str, wanted: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        state = (await node.service.store.get(pid)).state.value
        if state == wanted or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.05)


async def test_cn_c_01_04_request_agreement_verified_finalized(setup):
    node, kit = setup
    cpid, offer = await _consume(node, kit)
    cb = f"{node.base}/dsp/callback/negotiations/{cpid}"
    forged = _agreement(node, cpid, offer, signer=Signer.for_did_key(generate_key("Ed25519")))
    status, body = await send(f"{cb}/agreement", {**forged, codec.SIGNATURE: forged[codec.SIGNATURE]})
    check(status, body, 400, "ContractNegotiationError")  # signed by someone else
    status, body = await send(f"{cb}/agreement", _agreement(node, cpid, offer, assignee="did:web:someone.else"))
    check(status, body, 400, "ContractNegotiationError")  # not ours
    assert await _our_state(node, cpid, "REQUESTED") == "REQUESTED"
    status, body = await send(f"{cb}/agreement", _agreement(node, cpid, offer))
    check(status, body, 200, "ContractNegotiation")
    verification = await kit.got("ContractAgreementVerificationMessage")
    assert verification["providerPid"] == Kit.pid
    assert any(path == f"/dsp/negotiations/{Kit.pid}/agreement/verification" for path, _ in kit.received)
    finalized = {"@context": CTX, "@type": "ContractNegotiationEventMessage", "providerPid": Kit.pid, "consumerPid": cpid, "eventType": "FINALIZED"}
    status, body = await send(f"{cb}/events", finalized)
    assert check(status, body, 200, "ContractNegotiation")["state"] == "FINALIZED"
    # the same event again: FINALIZED is final, DSP allows nothing more (its sender may ask)
    status, body = await send(f"{cb}/events", finalized)
    check(status, body, 400, "ContractNegotiationError")
    assert await _our_state(node, cpid, "FINALIZED") == "FINALIZED"


async def test_cn_c_an_unsigned_agreement_from_a_provider_that_does_not_sign_is_agreed(setup):
    """DSP asks only for the ODRL Agreement: a provider that does not sign reaches AGREED with
    us (its message is authenticated by its token); a signature, when present, must verify."""
    node, kit = setup
    cpid, offer = await _consume(node, kit)
    cb = f"{node.base}/dsp/callback/negotiations/{cpid}"
    signed = _agreement(node, cpid, offer)
    for bad in (12, "not.a.jws", _agreement(node, cpid, offer, timestamp="2026-02-02T00:00:00Z")[codec.SIGNATURE]):
        status, body = await send(f"{cb}/agreement", {**signed, codec.SIGNATURE: bad})
        check(status, body, 400, "ContractNegotiationError")  # malformed, or over other terms
    assert await _our_state(node, cpid, "REQUESTED") == "REQUESTED"
    unsigned = {k: v for k, v in signed.items() if k != codec.SIGNATURE}
    status, body = await send(f"{cb}/agreement", unsigned)
    assert check(status, body, 200, "ContractNegotiation")["state"] in ("AGREED", "VERIFIED")
    await kit.got("ContractAgreementVerificationMessage")  # we verified it: on to FINALIZED
    shown = summary(await node.service.store.get(cpid))
    assert shown["agreementAuthentication"] == "caller-token" and shown["agreementId"] == signed["agreement"]["@id"]


async def _get(url: str, caller: str = KIT.did) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(url, headers={"X-Test-Caller": caller}) as r:
        return r.status, await r.json(content_type=None)


async def test_cn_c_the_consumer_answers_the_state_of_its_process(setup):
    """DSP 2025-1 (and the TCK's thenVerifyConsumerState): GET {callback}/negotiations/:consumerPid."""
    node, kit = setup
    cpid, offer = await _consume(node, kit)
    status, body = await _get(f"{node.base}/dsp/callback/negotiations/{cpid}")
    assert check(status, body, 200, "ContractNegotiation")["state"] == "REQUESTED"
    assert body["consumerPid"] == cpid and body["providerPid"] == Kit.pid
    check(*await _get(f"{node.base}/dsp/callback/negotiations/{cpid}", caller="did:web:other.example"),
          404, "ContractNegotiationError")  # never another's
    check(*await _get(f"{node.base}/dsp/negotiations/{cpid}"), 404, "ContractNegotiationError")  # not a provider's


async def test_cn_c_a_signed_agreement_is_recorded_as_signed(setup):
    node, kit = setup
    cpid, offer = await _consume(node, kit)
    status, body = await send(f"{node.base}/dsp/callback/negotiations/{cpid}/agreement", _agreement(node, cpid, offer))
    check(status, body, 200, "ContractNegotiation")
    assert summary(await node.service.store.get(cpid))["agreementAuthentication"] == "signature"


async def test_cn_c_01_01_offer_accepted_agreed_verified_finalized(setup):
    node, kit = setup
    cpid, offer = await _consume(node, kit)
    cb = f"{node.base}/dsp/callback/negotiations/{cpid}"
    message = {"@context": CTX, "@type": "ContractOfferMessage", "providerPid": Kit.pid, "consumerPid": cpid, "offer": offer}
    status, body = await send(f"{cb}/offers", message)
    check(status, body, 200, "ContractNegotiation")
    await kit.got("ContractNegotiationEventMessage", "ACCEPTED")
    assert await _our_state(node, cpid, "ACCEPTED") == "ACCEPTED"
    status, body = await send(f"{cb}/agreement", _agreement(node, cpid, offer))
    check(status, body, 200, "ContractNegotiation")
    await kit.got("ContractAgreementVerificationMessage")
    finalized = {"@context": CTX, "@type": "ContractNegotiationEventMessage", "providerPid": Kit.pid, "consumerPid": cpid, "eventType": "FINALIZED"}
    status, body = await send(f"{cb}/events", finalized)
    assert check(status, body, 200, "ContractNegotiation")["state"] == "FINALIZED"


async def test_cn_c_01_03_offer_not_asked_for_consumer_terminated(setup):
    node, kit = setup
    cpid, offer = await _consume(node, kit)
    other = {**offer, "permission": [{"action": "use", "constraint": [
        {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2020-01-01T00:00:00Z"}]}],
        "prohibition": [{"action": "distribute"}]}
    message = {"@context": CTX, "@type": "ContractOfferMessage", "providerPid": Kit.pid, "consumerPid": cpid, "offer": other}
    status, body = await send(f"{node.base}/dsp/callback/negotiations/{cpid}/offers", message)
    check(status, body, 200, "ContractNegotiation")
    await kit.got("ContractNegotiationTerminationMessage")
    assert await _our_state(node, cpid, "TERMINATED") == "TERMINATED"


async def test_cn_c_02_01_request_provider_terminated(setup):
    node, kit = setup
    cpid, _ = await _consume(node, kit)
    termination = {"@context": CTX, "@type": "ContractNegotiationTerminationMessage", "providerPid": Kit.pid, "consumerPid": cpid}
    status, body = await send(f"{node.base}/dsp/callback/negotiations/{cpid}/termination", termination)
    assert check(status, body, 200, "ContractNegotiation")["state"] == "TERMINATED"


async def test_cn_c_03_invalid_provider_messages(setup):
    node, kit = setup
    cpid, offer = await _consume(node, kit)
    cb = f"{node.base}/dsp/callback/negotiations/{cpid}"
    finalized = {"@context": CTX, "@type": "ContractNegotiationEventMessage", "providerPid": Kit.pid, "consumerPid": cpid, "eventType": "FINALIZED"}
    status, body = await send(f"{cb}/events", finalized)
    check(status, body, 400, "ContractNegotiationError")  # CN_C:03-01
    status, body = await send(f"{cb}/events", {**finalized, "providerPid": "urn:uuid:another"})
    check(status, body, 400, "ContractNegotiationError")  # names another process
    status, body = await send(f"{cb}/events", finalized, caller="did:web:other.example")
    check(status, body, 404, "ContractNegotiationError")
    assert await _our_state(node, cpid, "REQUESTED") == "REQUESTED"


def _kit_message(cpid: str, dsp_type: str, **extra: Any) -> dict:
    return {"@context": CTX, "@type": dsp_type, "providerPid": Kit.pid, "consumerPid": cpid, **extra}


async def _kit_offer(node: Node, kit: Kit, manual: bool) -> tuple[str, str, dict]:
    """CN_C: our request, then the kit's offer of the same terms."""
    if manual:
        node.service.manual = frozenset({Role.CONSUMER})
    cpid, offer = await _consume(node, kit)
    cb = f"{node.base}/dsp/callback/negotiations/{cpid}"
    status, body = await send(f"{cb}/offers", _kit_message(cpid, "ContractOfferMessage", offer=offer))
    check(status, body, 200, "ContractNegotiation")
    if manual:
        assert await _our_state(node, cpid, "OFFERED") == "OFFERED"
        await _pending(node, cpid)
    else:
        await kit.got("ContractNegotiationEventMessage", "ACCEPTED")
    return cpid, cb, offer


async def test_cn_c_01_02_offer_received_consumer_counter_offer_provider_terminated(setup):
    node, kit = setup
    cpid, cb, offer = await _kit_offer(node, kit, manual=True)
    await node.service.offer(cpid, {"permission": offer["permission"], "prohibition": [{"action": "distribute"}]})
    counter: list[dict] = []
    deadline = time.monotonic() + 5
    while not counter and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        counter = [b for p, b in kit.received if p == f"/dsp/negotiations/{Kit.pid}/request"]
    assert counter and counter[0]["offer"]["prohibition"] == [{"action": "distribute"}]
    assert not codec.problems("ContractRequestMessage", counter[0])
    status, body = await send(f"{cb}/termination", _kit_message(cpid, "ContractNegotiationTerminationMessage"))
    assert check(status, body, 200, "ContractNegotiation")["state"] == "TERMINATED"


async def test_cn_c_02_02_request_consumer_terminated(setup):
    node, kit = setup
    cpid, _ = await _consume(node, kit)
    await node.service.terminate(cpid)
    termination = await kit.got("ContractNegotiationTerminationMessage")
    assert termination["providerPid"] == Kit.pid
    assert any(p == f"/dsp/negotiations/{Kit.pid}/termination" for p, _ in kit.received)


async def test_cn_c_02_03_agreement_consumer_terminated(setup):
    node, kit = setup
    node.service.manual = frozenset({Role.CONSUMER})
    cpid, offer = await _consume(node, kit)
    status, body = await send(f"{node.base}/dsp/callback/negotiations/{cpid}/agreement", _agreement(node, cpid, offer))
    assert check(status, body, 200, "ContractNegotiation")["state"] == "AGREED"
    await _pending(node, cpid)
    await node.service.terminate(cpid)
    await kit.got("ContractNegotiationTerminationMessage")
    assert not [b for _, b in kit.received if b["@type"] == "ContractAgreementVerificationMessage"]


@pytest.mark.parametrize("manual", [True, False], ids=["CN_C:02-04", "CN_C:02-05"])
async def test_cn_c_02_04_and_02_05_offer_provider_terminated(setup, manual):
    node, kit = setup
    cpid, cb, _ = await _kit_offer(node, kit, manual=manual)  # 02-05: we accepted first
    status, body = await send(f"{cb}/termination", _kit_message(cpid, "ContractNegotiationTerminationMessage"))
    assert check(status, body, 200, "ContractNegotiation")["state"] == "TERMINATED"


async def test_cn_c_02_06_agreement_verified_provider_terminated(setup):
    node, kit = setup
    cpid, offer = await _consume(node, kit)
    cb = f"{node.base}/dsp/callback/negotiations/{cpid}"
    status, body = await send(f"{cb}/agreement", _agreement(node, cpid, offer))
    check(status, body, 200, "ContractNegotiation")
    await kit.got("ContractAgreementVerificationMessage")
    status, body = await send(f"{cb}/termination", _kit_message(cpid, "ContractNegotiationTerminationMessage"))
    assert check(status, body, 200, "ContractNegotiation")["state"] == "TERMINATED"


async def test_cn_c_03_02_and_03_03_offer_then_invalid_agreement_or_finalized(setup):
    node, kit = setup
    cpid, cb, offer = await _kit_offer(node, kit, manual=True)
    status, body = await send(f"{cb}/agreement", _agreement(node, cpid, offer))
    check(status, body, 400, "ContractNegotiationError")  # CN_C:03-02
    status, body = await send(f"{cb}/events", _kit_message(cpid, "ContractNegotiationEventMessage", eventType="FINALIZED"))
    check(status, body, 400, "ContractNegotiationError")  # CN_C:03-03
    assert await _our_state(node, cpid, "OFFERED") == "OFFERED"


async def test_cn_c_03_04_and_03_05_accepted_then_invalid_finalized_or_offer(setup):
    node, kit = setup
    cpid, cb, offer = await _kit_offer(node, kit, manual=False)
    status, body = await send(f"{cb}/events", _kit_message(cpid, "ContractNegotiationEventMessage", eventType="FINALIZED"))
    check(status, body, 400, "ContractNegotiationError")  # CN_C:03-04
    status, body = await send(f"{cb}/offers", _kit_message(cpid, "ContractOfferMessage", offer={**offer, "@id": "urn:uuid:o2"}))
    check(status, body, 400, "ContractNegotiationError")  # CN_C:03-05
    assert await _our_state(node, cpid, "ACCEPTED") == "ACCEPTED"


async def test_cn_c_03_06_agreed_then_invalid_finalized(setup):
    node, kit = setup
    cpid, cb, offer = await _kit_offer(node, kit, manual=True)
    assert (await node.service.agree(cpid)).state.value == "ACCEPTED"  # the operator accepts
    await kit.got("ContractNegotiationEventMessage", "ACCEPTED")
    status, body = await send(f"{cb}/agreement", _agreement(node, cpid, offer))
    assert check(status, body, 200, "ContractNegotiation")["state"] == "AGREED"
    status, body = await send(f"{cb}/events", _kit_message(cpid, "ContractNegotiationEventMessage", eventType="FINALIZED"))
    check(status, body, 400, "ContractNegotiationError")
    assert await _our_state(node, cpid, "AGREED") == "AGREED"


async def test_the_outbox_retries_with_backoff_and_a_restarted_sender_resumes(setup):
    node, kit = setup
    kit.down = 1
    answer = await _request(node, kit, node.open_iri)  # persisted AGREED, the message queued
    assert answer["state"] == "AGREED"
    await asyncio.sleep(0.3)
    assert kit.received == [] and kit.down == 0  # one failed attempt, the next one later
    # another sender (a restarted node) takes over once the message is due again
    second = asyncio.create_task(Manager(node.service).run())
    try:
        agreement = await kit.got("ContractAgreementMessage", timeout=10)
    finally:
        second.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await second
    assert agreement["consumerPid"] == answer["consumerPid"]
    await asyncio.sleep(0.3)
    assert len([b for _, b in kit.received if b["@type"] == "ContractAgreementMessage"]) == 1  # sent once
