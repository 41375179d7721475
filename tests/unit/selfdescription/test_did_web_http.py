"""End to end over real HTTP on loopback: a node's did:web document served by aiohttp, its
self-description validated by a resolver that fetches that document (no in-memory stand-in)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from connector.identity.did import Signer, did_web_document, did_web_from_url
from connector.identity.keys import KeyStore
from connector.identity.resolver import DidResolver
from connector.selfdescription import report as r
from connector.selfdescription.model import Framework, Participant
from connector.selfdescription.service import build_self_description
from connector.selfdescription.validate import validate_self_description
from tests.conftest import serving
from tests.unit.selfdescription.conftest import NOW


@pytest.fixture
async def node(store: KeyStore) -> AsyncIterator[tuple[str, dict]]:
    served: dict = {}

    async def did_json(request: web.Request) -> web.Response:
        return web.json_response(served["doc"], content_type="application/did+json")

    app = web.Application()
    app.router.add_get("/.well-known/did.json", did_json)
    async with serving(app) as base:
        did = did_web_from_url(base)
        served["doc"] = did_web_document(did, store, [])
        yield did, served


@pytest.mark.parametrize("framework", [Framework.LOIRE, Framework.TAGUS])
async def test_self_description_verifies_against_the_served_did_document(
    node, store, shapes, framework
):
    did, _ = node
    participant = Participant.of("Loopback SA", did, "BE-BRU", "vatID:BE0762747721")
    assert participant.base_url.startswith("http://127.0.0.1:")
    sd = build_self_description(
        participant, Signer.for_store(store, did, "P-256"), framework=framework, now=NOW
    )
    resolver = DidResolver(None, allow_private=True, timeout=5.0)
    report = await validate_self_description(sd.body(), resolver, now=NOW, shapes=shapes)
    assert report.conforms, report.render()


async def test_a_rotated_key_no_longer_verifies(node, store, shapes, tmp_path):
    did, served = node
    participant = Participant.of("Loopback SA", did, "BE-BRU", "vatID:BE0762747721")
    sd = build_self_description(participant, Signer.for_store(store, did, "P-256"), now=NOW)
    served["doc"] = did_web_document(did, KeyStore.create(tmp_path / "new"), [])
    resolver = DidResolver(None, allow_private=True, timeout=5.0)
    report = await validate_self_description(sd.body(), resolver, now=NOW, shapes=shapes)
    assert not report.conforms and r.SIGNATURE in report.checks()
