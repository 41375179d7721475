"""did:web resolution against a real server on 127.0.0.1, with every guard exercised: what
went wrong is the error's detail, while its message says only that the DID did not resolve."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from connector.errors import ConnectorError, Reason
from connector.identity.addresses import AddressPolicy
from connector.identity.did import did_web_document
from connector.identity.resolver import DidResolutionError, DidResolver


async def test_resolves_the_served_document(did_server, web_node, node_store):
    resolver = DidResolver(None)
    document = await resolver.resolve(did_server.did)
    assert document == did_web_document(did_server.did, node_store, [])
    key = await resolver.verification_key(f"{did_server.did}#key-p256", "assertionMethod")
    assert key == node_store.p256.public_jwk()
    key = await resolver.verification_key(f"{did_server.did}#key-ed25519", "authentication")
    assert key == node_store.ed25519.public_jwk()


async def test_documents_are_cached_until_ttl(did_server, node_store):
    calls = 0
    document = did_web_document(did_server.did, node_store, [])

    async def counted(request):
        nonlocal calls
        calls += 1
        return web.json_response(document)

    did_server.routes["/.well-known/did.json"] = counted
    cached = DidResolver(None)
    await cached.resolve(did_server.did)
    await cached.resolve(did_server.did)
    assert calls == 1
    uncached = DidResolver(None, ttl=0)
    await uncached.resolve(did_server.did)
    await uncached.resolve(did_server.did)
    assert calls == 3


async def test_uses_the_given_session(did_server, web_node):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        document = await DidResolver(session).resolve(did_server.did)
        assert not session.closed
    assert document["id"] == did_server.did


async def resolution_error(resolver: DidResolver, did: str) -> str:
    """Why DID did not resolve (the detail, for a did:web that could not be fetched)."""
    with pytest.raises(ConnectorError) as info:
        await resolver.resolve(did)
    assert info.value.reason is Reason.DID_RESOLUTION
    if isinstance(info.value, DidResolutionError):
        assert str(info.value) == f"no valid DID document could be fetched for {did}"
        return info.value.detail
    return str(info.value)


async def test_document_whose_id_differs(did_server, node_store):
    did_server.serve_json("/.well-known/did.json",
                          did_web_document("did:web:evil.example", node_store, []))
    assert "has id 'did:web:evil.example'" in await resolution_error(DidResolver(None), did_server.did)


async def test_oversized_document(did_server):
    big = {"id": did_server.did, "padding": "x" * 100_000}
    did_server.serve_json("/.well-known/did.json", big)
    assert "larger than 65536 bytes" in await resolution_error(DidResolver(None), did_server.did)


async def test_oversized_streamed_document_without_length(did_server):
    async def endless(request):
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(100):
            await response.write(b" " * 4096)
        return response

    did_server.routes["/.well-known/did.json"] = endless
    message = await resolution_error(DidResolver(None, max_bytes=10_000), did_server.did)
    assert "larger than 10000 bytes" in message


async def test_slow_document(did_server):
    release = asyncio.Event()

    async def slow(request):
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"id": ')  # starts answering, then stalls
        await asyncio.wait_for(release.wait(), 10)
        return response

    did_server.routes["/.well-known/did.json"] = slow
    started = asyncio.get_running_loop().time()
    try:
        message = await resolution_error(DidResolver(None, timeout=0.3), did_server.did)
    finally:
        release.set()
    assert "took longer than 0.3 s" in message
    assert asyncio.get_running_loop().time() - started < 2


async def test_non_json_document(did_server):
    async def html(request):
        return web.Response(text="<html>hi</html>", content_type="text/html")

    did_server.routes["/.well-known/did.json"] = html
    assert "not JSON" in await resolution_error(DidResolver(None), did_server.did)

    async def broken(request):
        return web.Response(text="{nope", content_type="application/json")

    did_server.routes["/.well-known/did.json"] = broken
    assert "not valid JSON" in await resolution_error(DidResolver(None), did_server.did)


async def test_missing_document_and_redirect(did_server):
    assert "HTTP 404" in await resolution_error(DidResolver(None), did_server.did)

    async def redirect(request):
        raise web.HTTPFound("http://10.0.0.1/.well-known/did.json")

    did_server.routes["/.well-known/did.json"] = redirect
    assert "HTTP 302" in await resolution_error(DidResolver(None), did_server.did)


@pytest.mark.parametrize(
    "did",
    ["did:web:10.0.0.1", "did:web:192.168.1.20%3A8080", "did:web:172.16.5.4",
     "did:web:169.254.169.254", "did:web:100.64.0.1", "did:web:%5Bfc00%3A%3A1%5D",
     "did:web:%5Bfe80%3A%3A1%5D", "did:web:%5B%3A%3Affff%3A10.0.0.1%5D",
     "did:web:%5B2002%3Aa00%3A1%3A%3A1%5D", "did:web:224.0.0.1"],
)
async def test_private_addresses_are_refused(did):
    message = await resolution_error(DidResolver(None, timeout=1), did)
    assert "not an address this node may connect to" in message


async def test_loopback_is_refused_unless_allowed(did_server, web_node):
    strict = DidResolver(None, policy=AddressPolicy(), timeout=1)
    port = did_server.base_url.rsplit(":", 1)[1]
    for host in ("127.0.0.1", "localhost", "0.0.0.0", "%5B%3A%3A1%5D", "%5B%3A%3Affff%3A127.0.0.1%5D"):
        message = await resolution_error(strict, f"did:web:{host}%3A{port}")
        assert "not an address this node may connect to" in message
    allowed = DidResolver(None, policy=AddressPolicy(allow_loopback=True))
    assert (await allowed.resolve(did_server.did))["id"] == did_server.did


async def test_private_addresses_allowed_on_request():
    # allowed: the refusal is gone and the failure is the (unroutable) connection itself
    message = await resolution_error(DidResolver(None, allow_private=True, timeout=0.5),
                                     "did:web:0.0.0.0%3A9")
    assert "non-public" not in message


async def test_unsupported_method():
    assert "not supported" in await resolution_error(DidResolver(None), "did:example:123")


async def test_verification_relationship_is_enforced(did_server, node_store):
    document = did_web_document(did_server.did, node_store, [])
    document["assertionMethod"] = [f"{did_server.did}#key-ed25519"]
    did_server.serve_json("/.well-known/did.json", document)
    resolver = DidResolver(None)
    with pytest.raises(ConnectorError, match="#key-p256 is not an assertionMethod of did:web"):
        await resolver.verification_key(f"{did_server.did}#key-p256", "assertionMethod")
    with pytest.raises(ConnectorError, match="no verification method"):
        await resolver.verification_key(f"{did_server.did}#key-other", "assertionMethod")
    # relative references in relationships are understood
    document["authentication"] = ["#key-p256"]
    resolver.forget()
    key = await resolver.verification_key(f"{did_server.did}#key-p256", "authentication")
    assert key == node_store.p256.public_jwk()


async def test_host_names_are_pinned_to_the_checked_address(did_server, node_store):
    port = did_server.base_url.rsplit(":", 1)[1]
    did = f"did:web:localhost%3A{port}"
    seen: list[str] = []

    async def handler(request):
        seen.append(request.headers["Host"])
        return web.json_response(did_web_document(did, node_store, []))

    did_server.routes["/.well-known/did.json"] = handler
    document = await DidResolver(None).resolve(did)
    assert document["id"] == did
    assert seen == [f"localhost:{port}"]  # connected to 127.0.0.1, virtual host kept


def hostile_document(did: str, case: str) -> bytes:
    """A DID document body made to break a resolver."""
    if case == "nested":  # 30,000 levels in 60 kB: more than a recursive parser can take
        return json.dumps({"id": did, "x": "NEST"}).replace('"NEST"', "[" * 30_000 + "]" * 30_000).encode()
    if case == "surrogate":  # valid JSON, but text no UTF-8 encoder takes
        method = {"id": f"{did}#k", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "LONE"}}
        document = {"id": did, "verificationMethod": [method], "authentication": [f"{did}#k"]}
        return json.dumps(document).replace("LONE", "\\ud800").encode()
    wrong = {"methods": {"verificationMethod": 5}, "relationship": {"authentication": {"id": "#k"}},
             "entries": {"authentication": [5]}, "services": {"service": "https://x"},
             "list": [did], "id": {"id": 5}}[case]
    return json.dumps({"id": did, **wrong} if case not in ("list", "id") else wrong).encode()


@pytest.mark.parametrize("case", ["nested", "surrogate", "methods", "relationship", "entries",
                                  "services", "list", "id"])
async def test_hostile_documents_are_refused_cleanly(did_server, case):
    body = hostile_document(did_server.did, case)

    async def hostile(request):
        return web.Response(body=body, content_type="application/json")

    did_server.routes["/.well-known/did.json"] = hostile
    message = await resolution_error(DidResolver(None, max_bytes=200_000), did_server.did)
    assert "is not valid" in message


async def test_a_key_of_the_wrong_type_is_no_key(did_server):
    did = did_server.did
    method = {"id": f"{did}#k", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": {"a": 1}}}
    did_server.serve_json("/.well-known/did.json", {"id": did, "verificationMethod": [method],
                                                    "authentication": [f"{did}#k"]})
    with pytest.raises(ConnectorError, match="no supported public key"):
        await DidResolver(None).verification_key(f"{did}#k", "authentication")
