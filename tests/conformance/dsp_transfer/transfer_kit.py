"""A node's transfer surface on 127.0.0.1 with the test kit beside it: the kit sends what the
DSP TCK sends and records what our node sends back. A stand-in for the DCP middleware takes
the caller's DID from a test header; agreements are FINALIZED negotiations put in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from connector.auth.caller import CALLER, Caller
from connector.catalog.service import CatalogService
from connector.catalog.sql import SqlCatalogStore
from connector.identity.callbacks import Callbacks
from connector.identity.did import Signer
from connector.identity.keys import generate_key
from connector.identity.resolver import DidResolver
from connector.negotiation.model import ContractNegotiation, Role
from connector.negotiation.model import State as NState
from connector.negotiation.service import NegotiationService
from connector.negotiation.sql import SqlNegotiationStore
from connector.transfer import codec, dataplane, routes
from connector.transfer.manager import TRANSFERS, Manager
from connector.transfer.service import TransferService
from connector.transfer.sql import SqlTransferStore
from tests.conftest import open_test_database

CTX = [codec.DSP_CONTEXT]
KIT = Signer.for_did_key(generate_key("Ed25519"))
USE = [{"action": "use"}]
DATA = bytes(range(256)) * 1024  # 256 KiB


@web.middleware
async def fake_dcp(request: web.Request, handler):
    did = request.headers.get("X-Test-Caller")
    request[CALLER] = Caller(did) if did else None
    if request[CALLER] is None and request.path.startswith("/dsp/"):
        return web.json_response(codec.error_json(401, "authenticate"), status=401)
    return await handler(request)


def listener() -> tuple[socket.socket, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class Kit:
    base: str
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pid: str = "urn:uuid:kit-provider-1"
    pushed: list[bytes] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        if request.path.startswith("/push"):
            self.pushed.append(await request.read())
            return web.Response(status=200)
        body = await request.json()
        self.received.append((request.path, body))
        status = 201 if request.path.endswith("/transfers/request") else 200
        return web.json_response({"@context": CTX, "@type": "TransferProcess", "providerPid": self.pid,
                                  "consumerPid": body.get("consumerPid", ""), "state": "REQUESTED"}, status=status)

    async def got(self, dsp_type: str, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """The COUNT-th message of that type our node sent, checked against the DSP schema."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [b for _, b in self.received if b.get("@type") == dsp_type]
            if len(found) >= count:
                body = found[count - 1]
                assert not codec.problems(dsp_type, body), codec.problems(dsp_type, body)
                return body
            await asyncio.sleep(0.03)
        raise AssertionError(f"the node sent no {dsp_type} #{count}: {self.received}")


@dataclass
class Node:
    base: str
    service: TransferService
    negotiations: NegotiationService
    dataset_iri: str
    kit_dsp: str = ""
    counter: int = 0

    async def agreement(self, role: Role = Role.PROVIDER, permission: list | None = None,
                        timestamp: str | None = None, counterparty: str | None = None, **extra: Any) -> str:
        """A FINALIZED agreement with the kit (PROVIDER: we provide) and its id."""
        self.counter += 1
        agreement_id = f"urn:uuid:agreement-{self.counter}-{id(self)}"
        moment = datetime.now(UTC)
        agreement = {"@id": agreement_id, "@type": "Agreement", "permission": permission or USE,
                     "target": self.dataset_iri, "assigner": self.service.did if role is Role.PROVIDER else KIT.did,
                     "assignee": KIT.did if role is Role.PROVIDER else self.service.did,
                     "timestamp": timestamp or moment.strftime("%Y-%m-%dT%H:%M:%SZ"), **extra}
        n = ContractNegotiation(
            id=f"urn:uuid:neg-{self.counter}-{id(self)}", role=role, state=NState.FINALIZED,
            consumer_pid=f"urn:uuid:c-{agreement_id}", provider_pid=f"urn:uuid:p-{agreement_id}", counterparty_did=counterparty or KIT.did,
            counterparty_address=self.kit_dsp, dataset_id=self.dataset_iri, offer={"@type": "Offer"},
            agreement=agreement, created_at=moment, updated_at=moment)
        assert await self.negotiations.store.create(n)
        return agreement_id


@contextlib.asynccontextmanager
async def running(tmp_path, manual: bool = False, sender: bool = True):
    tmp_path = tmp_path / ("manual" if manual else "auto")
    src = tmp_path / "src"
    src.mkdir(parents=True)
    (src / "data.bin").write_bytes(DATA)
    node_sock, base = listener()
    kit_sock, kit_base = listener()
    me = Signer.for_did_key(generate_key("Ed25519"))
    kit = Kit(kit_base)
    kit_app = web.Application(client_max_size=1 << 24)
    kit_app.router.add_route("*", "/{tail:.*}", kit.handle)
    async with open_test_database("sqlite", tmp_path) as db, aiohttp.ClientSession() as session:
        catalog = CatalogService(SqlCatalogStore(db), home=tmp_path / "home", did=me.did, public_url=base,
                                 allowed_roots=[src], name="Provider")
        dataset = await catalog.publish(str(src / "data.bin"), title="Data", policy="open")
        negotiations = NegotiationService(SqlNegotiationStore(db), did=me.did, dsp_url=base + "/dsp", signer=me,
                                          session=session, resolver=DidResolver(session), catalog=catalog,
                                          callbacks=Callbacks(DidResolver(session), origins=frozenset({kit_base})))
        service = TransferService(SqlTransferStore(db), did=me.did, dsp_url=base + "/dsp", public_url=base,
                                  signer=me, session=session, negotiations=negotiations, catalog=catalog,
                                  manual=manual)
        app = web.Application(middlewares=[fake_dcp], client_max_size=64 * 1024)
        app.add_routes(routes.public)
        app.add_routes(dataplane.routes)
        app[TRANSFERS] = service
        runners = [web.AppRunner(app), web.AppRunner(kit_app)]
        for runner, sock in zip(runners, (node_sock, kit_sock), strict=True):
            await runner.setup()
            await web.SockSite(runner, sock).start()
        manager = Manager(service)
        task = asyncio.create_task(manager.run()) if sender else None
        try:
            yield Node(base, service, negotiations, dataset.iri, kit_dsp=kit_base + "/dsp"), kit, manager
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for runner in runners:
                await runner.cleanup()


async def send(url: str, body: Any, *, caller: str = KIT.did) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "X-Test-Caller": caller}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    async with aiohttp.ClientSession() as s, s.post(url, data=data, headers=headers) as r:
        return r.status, await r.json(content_type=None)


def check(status: int, body: Any, expected: int, dsp_type: str) -> Any:
    assert status == expected, body
    assert not codec.problems(dsp_type, body), codec.problems(dsp_type, body)
    return body


async def state_of(node: Node, pid: str) -> str:
    return (await node.service.store.get(pid)).state.value


async def eventually(node: Node, pid: str, wanted: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while (state := await state_of(node, pid)) != wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.03)
    return state
