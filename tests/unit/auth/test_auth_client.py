"""The caller side meets hostile answers: every one becomes a Delivery, never an exception."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from connector.auth.caller import Caller
from connector.auth.client import MAX_ANSWER, deliver
from connector.identity.did import Signer
from connector.identity.keys import generate_key
from tests.conftest import serving

ANSWERS = {
    # name: (status, body, content type, what the error says)
    "nested": (200, b"[" * 100_000 + b"]" * 100_000, "application/json", "nests deeper"),
    "surrogate": (201, b'{"consumerPid": "\\ud800"}', "application/json", "lone surrogate"),
    "huge": (200, b'"' + b"x" * (MAX_ANSWER + 10) + b'"', "application/json", "larger than"),
    "not-json": (200, b"<html>", "text/html", "Expecting value"),
    "bogus-charset": (400, b"\xff no", "text/plain; charset=bogus", "400: \ufffd no"),
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
async def test_a_hostile_answer_is_a_failed_delivery(case):
    status, body, content_type, why = ANSWERS[case]

    async def answer(_: web.Request) -> web.Response:
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_post("/dsp/negotiations/request", answer)
    signer = Signer.for_did_key(generate_key("Ed25519"))
    async with serving(app) as base, aiohttp.ClientSession() as session:
        sent = await deliver(session, f"{base}/dsp/negotiations/request", {"@type": "X"},
                             signer=signer, audience_did="did:web:provider.example")
    assert sent.body is None and why in sent.error
    assert sent.status == (400 if case == "bogus-charset" else 0)  # 0: no answer to act on


async def test_an_empty_answer_is_still_a_success():
    async def empty(_: web.Request) -> web.Response:
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/x", empty)
    async with serving(app) as base, aiohttp.ClientSession() as session:
        sent = await deliver(session, f"{base}/x", {}, signer=Signer.for_did_key(generate_key("Ed25519")),
                             audience_did="did:web:provider.example")
    assert (sent.status, sent.body, sent.error) == (200, None, "")


def test_a_credential_with_odd_types_is_simply_not_of_that_type():
    caller = Caller("did:web:a.example", ({"type": 5}, {"type": [1, "MembershipCredential"]}, {"type": None}))
    assert caller.has_credential("MembershipCredential") and len(caller.claims("MembershipCredential")) == 1
