"""A real HTTP server on 127.0.0.1 that serves whatever a test puts in `routes` (no mocks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from connector.identity.did import Signer, did_web_document, did_web_from_url
from connector.identity.keys import KeyStore, generate_key
from connector.identity.resolver import DidResolver
from tests.conftest import serving

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class DidServer:
    base_url: str
    routes: dict[str, Handler] = field(default_factory=dict)

    @property
    def did(self) -> str:
        return did_web_from_url(self.base_url)

    def serve_json(self, path: str, document: dict, content_type: str = "application/did+json") -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(document, content_type=content_type)

        self.routes[path] = handler


@pytest.fixture
async def did_server() -> AsyncIterator[DidServer]:
    server: DidServer | None = None

    async def dispatch(request: web.Request) -> web.StreamResponse:
        assert server is not None
        handler = server.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", dispatch)
    async with serving(app) as base:
        server = DidServer(base)
        yield server


@pytest.fixture(scope="session")
def node_store(tmp_path_factory) -> KeyStore:
    return KeyStore.create(tmp_path_factory.mktemp("node") / "keys")


@pytest.fixture
def web_node(did_server: DidServer, node_store: KeyStore) -> tuple[Signer, Signer]:
    """A did:web node served by did_server: its Ed25519 and P-256 signers."""
    did = did_server.did
    did_server.serve_json("/.well-known/did.json", did_web_document(did, node_store, []))
    return Signer.for_store(node_store, did), Signer.for_store(node_store, did, "P-256")


@pytest.fixture(scope="session")
def ed_signer() -> Signer:
    return Signer.for_did_key(generate_key("Ed25519"))


@pytest.fixture(scope="session")
def p256_signer() -> Signer:
    return Signer.for_did_key(generate_key("P-256"))


@pytest.fixture
async def resolver() -> AsyncIterator[DidResolver]:
    yield DidResolver(None, timeout=2.0)
