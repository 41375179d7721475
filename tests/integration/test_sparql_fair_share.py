"""Each caller's fair share of `/sparql`, over real HTTP on loopback.

Callers come from loopback addresses of their own (127.0.0.2, ...), as distinct hosts would.
Members authenticate for real: a did:web participant on loopback with a DCP credential
service, holding a MembershipCredential from a trust anchor the endpoint trusts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from connector.auth import routes as credential_service_routes
from connector.auth.client import authorization
from connector.auth.credential_service import Holder
from connector.auth.replay import ReplayGuard
from connector.auth.resources import AUTH, Auth
from connector.auth.store import InMemoryJtiStore
from connector.auth.verifier import CallerVerifier, StaticTrustAnchors
from connector.credentials.service import hold
from connector.credentials.store import InMemoryCredentialStore
from connector.identity.did import Signer, credential_service, did_web_document, did_web_from_url
from connector.identity.keys import KeyStore, generate_key
from connector.identity.resolver import DidResolver
from connector.identity.service import issue_credential
from connector.sparql import SPARQL, Limits, Share, SparqlSettings, open_sparql, public
from tests.nodes import free_port

SLOW = 1.0  # an anonymous query's time limit, so that hogs hold a worker for about that long
ANONYMOUS = Share(running=1, waiting=2, timeout=SLOW)
MEMBER = Share(running=2, waiting=2, timeout=10.0)
HOSTILE = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # runs until stopped
QUICK = "ASK { <urn:s1> ?p ?o }"


@contextlib.asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """APP on a free loopback port. Unlike tests.conftest.serving, a query still running when
    the test ends is cancelled after a moment (as a node does when it stops) and not awaited."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def auth_for(signer: Signer, resolver: DidResolver, session, anchors: list[str]) -> Auth:
    """A node's DCP pieces: a verifier of callers and a holder answering for its credentials."""
    guard = ReplayGuard(InMemoryJtiStore())
    return Auth(
        verifier=CallerVerifier(signer, resolver, session, guard, StaticTrustAnchors(anchors)),
        holder=Holder(signer, resolver, InMemoryCredentialStore(), guard),
    )


@contextlib.asynccontextmanager
async def participant(folder: Path, session, anchor: Signer | None) -> AsyncIterator[Signer]:
    """A did:web participant on loopback with a real credential service, holding a
    MembershipCredential from ANCHOR if there is one."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    did = did_web_from_url(base)
    keys = KeyStore.create(folder)
    signer = Signer.for_store(keys, did)
    document = did_web_document(did, keys, [credential_service(did, f"{base}/credentials")])
    resolver = DidResolver(session)
    auth = auth_for(signer, resolver, session, [])
    if anchor is not None:
        membership = issue_credential(anchor, did, ["MembershipCredential"], {}, "jwt")
        await hold(auth.holder.credentials, resolver, did, membership)

    async def did_json(_: web.Request) -> web.Response:
        return web.json_response(document)

    app = web.Application()
    app[AUTH] = auth
    app.router.add_get("/.well-known/did.json", did_json)
    app.add_routes(credential_service_routes.public)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield signer
    finally:
        await runner.cleanup()


@pytest.fixture
async def node(tmp_path):
    """`/sparql` with two workers and the node's DCP verifier; yields (endpoint, its DID)."""
    limits = Limits(anonymous=ANONYMOUS, member=MEMBER, workers=2, replica_max_bytes=0)
    anchor = Signer.for_did_key(generate_key("Ed25519"))
    provider = Signer.for_did_key(generate_key("Ed25519"))
    async with (
        aiohttp.ClientSession() as session,
        open_sparql(tmp_path / "sparql", SparqlSettings(limits=limits)) as service,
    ):
        filler = "".join(f'<urn:s{i}> <urn:p> "filler {i}" .\n' for i in range(3000))
        await service.store.replace_graph("urn:filler", filler, "nt")
        app = web.Application()
        app[SPARQL] = service
        app[AUTH] = auth_for(provider, DidResolver(session), session, [anchor.did])
        app.add_routes(public)
        async with served(app) as base:
            yield f"{base}/sparql", provider.did, anchor, session


@contextlib.asynccontextmanager
async def calling_from(address: str) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def ask(session, endpoint: str, query: str, **headers: str) -> tuple[int, dict, str, float]:
    started = time.monotonic()
    headers["Accept"] = "application/sparql-results+json"
    async with session.get(endpoint, params={"query": query}, headers=headers) as response:
        body = await response.text()
        return response.status, dict(response.headers), body, time.monotonic() - started


@contextlib.asynccontextmanager
async def hogging(
    endpoint: str, *addresses: str, resubmit: bool = True
) -> AsyncIterator[list[float]]:
    """From each address, as many slow queries at once as its share admits, sent again as
    soon as they are stopped when RESUBMIT; yields when each was stopped."""
    stopped: list[float] = []

    async def hog(session) -> None:
        while True:
            status, _, _, _ = await ask(session, endpoint, HOSTILE)
            if status == 429:  # a worker granted to it is still starting: its share is full
                await asyncio.sleep(0.05)
                continue
            stopped.append(time.monotonic())
            if not resubmit:
                return

    async with contextlib.AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(calling_from(a)) for a in addresses]
        tasks = [
            asyncio.create_task(hog(session))
            for session in sessions
            for _ in range(ANONYMOUS.running + ANONYMOUS.waiting)
        ]
        await asyncio.sleep(0.5)  # every hog holds a worker and queues the rest
        try:
            yield stopped
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_two_hogs_do_not_keep_a_quick_query_waiting(node):
    endpoint, *_ = node
    async with (
        hogging(endpoint, "127.0.0.2", "127.0.0.3") as hogs_stopped,
        calling_from("127.0.0.4") as session,
    ):
        status, _, body, _ = await ask(session, endpoint, QUICK)
        answered = time.monotonic()
    assert status == 200 and json.loads(body)["boolean"] is True
    # the first freed worker goes to the newcomer, not to the 4 queries that the hogs queued
    # before it came: one hog query ends before it has a worker, one more on the other worker
    # meanwhile, two at most on a slow machine (counted, not timed: a worker killed at its
    # time limit is replaced, and starting one takes from 0.2 s to seconds here)
    assert sum(1 for t in hogs_stopped if t < answered) <= 3


async def test_a_caller_over_its_share_is_told_at_once_when_to_come_back(node):
    endpoint, *_ = node
    async with hogging(endpoint, "127.0.0.2", resubmit=False), calling_from("127.0.0.2") as session:
        status, headers, body, took = await ask(session, endpoint, QUICK)
    assert status == 429 and took < 0.5, body
    assert 1 <= int(headers["Retry-After"]) <= math.ceil(SLOW)  # when its running query ends
    assert body.startswith("too many queries at once from you")
    assert headers["Access-Control-Expose-Headers"] == "Retry-After"  # browsers may read it


async def test_members_have_a_share_of_their_own(node, tmp_path):
    endpoint, provider, anchor, http = node
    async with (
        participant(tmp_path / "member", http, anchor) as member,
        participant(tmp_path / "stranger", http, None) as stranger,
        hogging(endpoint, "127.0.0.2", resubmit=False),
        calling_from("127.0.0.2") as session,
    ):
        # the address has used up its share: anonymous callers and non-members from it wait
        status, _, _, _ = await ask(session, endpoint, QUICK)
        assert status == 429
        as_stranger = authorization(stranger, provider)
        status, _, _, _ = await ask(session, endpoint, QUICK, Authorization=as_stranger)
        assert status == 429
        # a member calling from there has a share of its own (and the other worker)
        as_member = authorization(member, provider)
        status, _, body, _ = await ask(session, endpoint, QUICK, Authorization=as_member)
        assert status == 200 and json.loads(body)["boolean"] is True, body
        # a token that does not verify is refused, never taken for an anonymous call
        status, headers, _, _ = await ask(session, endpoint, QUICK, Authorization="forged.a.b")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
