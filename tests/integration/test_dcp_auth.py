"""DCP caller authentication between real nodes over loopback HTTP.

A (consumer) calls B (provider). C is the federation's trust anchor: a real node that issued
A's MembershipCredential and serves its did:web. A and B run their public app with the auth
pieces wired the way the composition root will (credential service route, middleware, the
auth resources), plus a few DSP-like routes that only report what the middleware decided.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from connector.app.middleware import problems
from connector.auth import routes as auth_routes
from connector.auth.caller import caller_of
from connector.auth.client import authorization, dsp_request
from connector.auth.credential_service import DCP_CONTEXT, issue_access_token
from connector.auth.middleware import allow_anonymous, dcp_auth
from connector.auth.resources import AUTH, auth_context
from connector.auth.schemas import RESPONSE
from connector.auth.schemas import problems as schema_problems
from connector.auth.scopes import MEMBERSHIP, type_scope
from connector.auth.sql import used_jtis
from connector.auth.tokens import issue_id_token
from connector.auth.verifier import StaticTrustAnchors
from connector.config import load, save
from connector.credentials import service as credentials
from connector.credentials.model import Role
from connector.credentials.status import StatusRegistry
from connector.identity import routes as identity
from connector.identity.did import Signer, credential_service, did_web_document, did_web_from_url
from connector.identity.jose import issue_vp_jwt, sign_jwt
from connector.identity.keys import KeyStore, generate_key
from connector.identity.proofs import VC_V2
from connector.identity.service import issue_credential
from connector.identity.verification import utcnow
from connector.node import NODE, Node, open_node
from tests.nodes import free_port, init_node, serving

dsp = web.RouteTableDef()


@dsp.get("/dsp/whoami")
async def whoami(request: web.Request) -> web.Response:
    caller = caller_of(request)
    assert caller is not None
    return web.json_response({"did": caller.did, "credentials": [
        {"issuer": c["issuer"], "types": c["type"]} for c in caller.credentials]})


@dsp.get("/dsp/catalog")
@allow_anonymous
async def catalog(request: web.Request) -> web.Response:
    caller = caller_of(request)
    return web.json_response({"did": caller.did if caller else None})


@dsp.post("/dsp/negotiations/request")
async def negotiate(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"did": caller_of(request).did}, status=201)


def public_app(node: Node) -> web.Application:
    app = web.Application(middlewares=[problems, dcp_auth("/dsp")],
                          client_max_size=node.config.max_body_bytes)
    app[NODE] = node
    app.cleanup_ctx.append(auth_context)
    app.add_routes(identity.public)
    app.add_routes(auth_routes.public)
    app.add_routes(dsp)
    return app


@contextlib.asynccontextmanager
async def running(folder: Path) -> AsyncIterator[tuple[Node, web.Application]]:
    config = load(folder)
    async with open_node(config) as node:
        app = public_app(node)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, config.public_host, config.public_port).start()
        try:
            yield node, app
        finally:
            await runner.cleanup()


Answer = web.Response | Callable[[Signer], web.Response] | None


@contextlib.asynccontextmanager
async def stranger(answer: Answer, tmp: Path) -> AsyncIterator[Signer]:
    """A did:web participant whose credential service answers `answer` (None: unreachable; a
    function: what it makes with the participant's signer, e.g. a signed presentation)."""
    port = free_port()
    did = did_web_from_url(f"http://127.0.0.1:{port}")
    keys = KeyStore.create(tmp / f"keys-{port}")
    service = f"http://127.0.0.1:{free_port() if answer is None else port}/cs"
    document = did_web_document(did, keys, [credential_service(did, service)])
    signer = Signer.for_store(keys, did)

    async def did_json(_: web.Request) -> web.Response:
        return web.json_response(document)

    async def query(_: web.Request) -> web.Response:
        assert answer is not None
        return answer if isinstance(answer, web.Response) else answer(signer)

    app = web.Application()
    app.router.add_get("/.well-known/did.json", did_json)
    app.router.add_post("/cs/presentations/query", query)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield signer
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    lei = "leiCode:529900T8BM49AURSDO55"  # a registration number whose checksum holds
    consumer = init_node(tmp_path_factory.mktemp("consumer"), name="ACME SAS", registration=lei)
    provider = init_node(tmp_path_factory.mktemp("provider"), name="Provider SA", registration=lei)
    anchor = init_node(tmp_path_factory.mktemp("anchor"), name="Federation", registration=lei)
    config = load(provider)
    save(dataclasses.replace(config, trust_anchors=(did_web_from_url(load(anchor).public_url),)))
    return consumer, provider, anchor


@pytest.fixture
async def nodes(folders):
    """A and B running; A holds a MembershipCredential from C and one from an untrusted did:key."""
    consumer, provider, anchor = folders
    async with serving(anchor) as c, running(consumer) as (a, a_app), running(provider) as (b, b_app):
        for old in await a.credentials.list(role=Role.HELD):  # the folders outlive each test
            await a.credentials.delete(old.id, Role.HELD)
        trusted = issue_credential(Signer.for_store(c.running.node.keys, c.did), a.did,
                                   ["MembershipCredential"], {"level": "full"}, "jwt")
        rogue = issue_credential(Signer.for_did_key(generate_key("Ed25519")), a.did,
                                 ["MembershipCredential"], {"level": "admin"}, "ldp")
        await credentials.hold(a.credentials, a.resolver, a.did, trusted)
        await credentials.hold(a.credentials, a.resolver, a.did, json.dumps(rogue))
        async with aiohttp.ClientSession() as http:
            yield a, b, b_app, c.did, http


def url(node: Node, path: str) -> str:
    return node.config.public_url + path


async def call(http, node: Node, path: str, header: str | None, method: str = "GET", **kw):
    headers = {"Authorization": header} if header else {}
    async with http.request(method, url(node, path), headers=headers, **kw) as response:
        return response.status, await response.json(content_type=None)


async def test_a_member_is_seen_with_its_trusted_credential_only(nodes):
    a, b, _, anchor, http = nodes
    async with dsp_request(http, "GET", url(b, "/dsp/whoami"), signer=a.signer) as response:
        assert response.status == 200, await response.text()
        seen = await response.json()
    assert seen == {"did": a.did, "credentials": [
        {"issuer": anchor, "types": ["VerifiableCredential", "MembershipCredential"]}]}
    # the callback direction: B calls A the same way (B holds nothing: authenticated, no claims)
    async with dsp_request(http, "GET", url(a, "/dsp/whoami"), signer=b.signer) as response:
        assert response.status == 200 and await response.json() == {"did": b.did, "credentials": []}


async def test_anonymous_callers_reach_open_routes_only(nodes):
    a, b, _, _, http = nodes
    assert await call(http, b, "/dsp/catalog", None) == (200, {"did": None})
    status, body = await call(http, b, "/dsp/whoami", None)
    assert status == 401 and body["@type"] == "CatalogError" and body["code"] == "401"
    status, body = await call(http, b, "/dsp/negotiations/request", None, "POST", json={})
    assert status == 401 and body["@type"] == "ContractNegotiationError"
    status, body = await call(http, b, "/dsp/catalog", authorization(a.signer, b.did))
    assert (status, body) == (200, {"did": a.did})
    # a failed attempt is never downgraded to anonymous
    status, _ = await call(http, b, "/dsp/catalog", authorization(a.signer, a.did))
    assert status == 401


async def _used(node: Node) -> int:
    async with node.database.engine.connect() as connection:
        return (await connection.execute(sa.select(sa.func.count()).select_from(used_jtis))).scalar()


def _tamper(token: str, **changes) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) | changes
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("case", ["forged", "expired", "audience", "other-key", "garbage", "bearer"])
async def test_bad_id_tokens_are_refused(nodes, case):
    a, b, b_app, _, http = nodes
    good = authorization(a.signer, b.did)
    header = {
        "forged": _tamper(good, sub=a.did, iss=a.did, jti="chosen"),
        "expired": authorization(a.signer, b.did, now=utcnow() - timedelta(minutes=10)),
        "audience": authorization(a.signer, "did:web:elsewhere.example"),
        "other-key": authorization(Signer(generate_key("Ed25519"), a.signer.verification_method), b.did),
        "garbage": "not a token at all",
        "bearer": "Bearer " + _tamper(good, exp=int(utcnow().timestamp()) + 240),
    }[case]
    why = {"forged": "signature", "expired": "expired", "audience": "audience",
           "other-key": "signature", "garbage": "well-formed", "bearer": "signature"}[case]
    before = await _used(b)
    status, body = await call(http, b, "/dsp/whoami", header)
    assert status == 401 and body["@type"] == "CatalogError" and why in body["reason"][0]
    assert await _used(b) == before  # a refused token leaves no trace
    assert header.split()[-1] not in json.dumps(body)
    b_app[AUTH].verifier.forget()
    status, _ = await call(http, b, "/dsp/whoami", "Bearer " + good)  # nothing burnt by them
    assert status == 200


async def test_a_replayed_token_is_refused(nodes):
    a, b, _, _, http = nodes
    header = authorization(a.signer, b.did)
    assert (await call(http, b, "/dsp/whoami", header))[0] == 200
    status, body = await call(http, b, "/dsp/whoami", header)
    assert status == 401 and "replayed" in body["reason"][0]


async def test_replay_is_refused_after_the_provider_restarts(folders):
    consumer, provider, anchor = folders
    async with serving(anchor), running(consumer) as (a, _):
        async with running(provider) as (b, _), aiohttp.ClientSession() as http:
            header = authorization(a.signer, b.did)
            assert (await call(http, b, "/dsp/whoami", header))[0] == 200
        async with running(provider) as (b, _), aiohttp.ClientSession() as http:
            status, body = await call(http, b, "/dsp/whoami", header)
            assert status == 401 and "replayed" in body["reason"][0]
            fresh = authorization(a.signer, b.did)
            assert (await call(http, b, "/dsp/whoami", fresh))[0] == 200


async def test_untrusted_credentials_are_dropped_not_refused(nodes):
    a, b, b_app, _, http = nodes
    b_app[AUTH].verifier.anchors = StaticTrustAnchors([])
    status, body = await call(http, b, "/dsp/whoami", authorization(a.signer, b.did))
    assert (status, body) == (200, {"did": a.did, "credentials": []})


async def _held(a: Node, document: str, subject: str | None = None) -> None:
    stored = credentials.describe(json.loads(document) if document.startswith("{") else
                                  _claims(document), document,
                                  credentials.Format.LDP if document.startswith("{") else credentials.Format.JWT,
                                  Role.HELD)
    await a.credentials.add(dataclasses.replace(stored, subject=subject or stored.subject,
                                                id="urn:uuid:planted"))


def _claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.parametrize("case", ["tampered", "other-subject", "expired"])
async def test_a_bad_credential_in_the_presentation_refuses_the_caller(nodes, case):
    a, b, b_app, _, http = nodes
    held = await a.credentials.list(role=Role.HELD, type_="MembershipCredential")
    jwt = next(c.document for c in held if c.format.value == "jwt")
    issuer = Signer.for_did_key(generate_key("Ed25519"))
    if case == "tampered":
        claims = _claims(jwt)
        await _held(a, _tamper(jwt, credentialSubject={**claims["credentialSubject"], "level": "root"}))
    elif case == "other-subject":
        other = issue_credential(issuer, "did:web:victim.example", ["MembershipCredential"], {}, "jwt")
        await _held(a, other, subject=a.did)  # the holder's record lies about the subject
    else:
        old = issue_credential(issuer, a.did, ["MembershipCredential"], {}, "jwt",
                               valid_for=timedelta(minutes=1), now=utcnow() - timedelta(hours=1))
        await _held(a, old, subject=a.did)
        stored = await a.credentials.get("urn:uuid:planted", Role.HELD)
        await a.credentials.delete("urn:uuid:planted", Role.HELD)
        await a.credentials.add(dataclasses.replace(stored, expires_at=None))  # A did not notice
    status, body = await call(http, b, "/dsp/whoami", authorization(a.signer, b.did))
    why = {"tampered": "signature does not match", "other-subject": "another subject",
           "expired": "expired"}[case]
    assert status == 401 and why in body["reason"][0]
    await a.credentials.delete("urn:uuid:planted", Role.HELD)
    b_app[AUTH].verifier.forget()
    assert (await call(http, b, "/dsp/whoami", authorization(a.signer, b.did)))[0] == 200


@pytest.mark.parametrize("case", ["unreachable", "error", "html", "garbage", "huge", "empty"])
async def test_a_broken_credential_service_refuses_the_caller(nodes, tmp_path, case):
    _, b, _, _, http = nodes
    answer = {
        "unreachable": None,
        "error": web.json_response({"oops": True}, status=500),
        "html": web.Response(text="<html>hi</html>", content_type="text/html"),
        "garbage": web.json_response({"@context": [DCP_CONTEXT], "type": "Nonsense"}),
        "huge": web.json_response({"@context": [DCP_CONTEXT], "type": "PresentationResponseMessage",
                                   "presentation": ["x" * (2 * 1024 * 1024)]}),
        "empty": web.json_response({"@context": [DCP_CONTEXT], "type": "PresentationResponseMessage",
                                    "presentation": []}),
    }[case]
    # whether a port is closed, open or another kind of server is nobody's business: one reason
    unusable = "the caller's credential service gave no usable answer"
    why = {"unreachable": unusable, "error": unusable, "html": unusable,
           "garbage": "invalid message", "huge": "too large", "empty": "no presentation"}[case]
    async with stranger(answer, tmp_path) as signer:
        status, body = await call(http, b, "/dsp/whoami", authorization(signer, b.did))
    assert status == 401 and why in body["reason"][0]


def _raw_b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _responding(*presentations) -> web.Response:
    return web.json_response({"@context": [DCP_CONTEXT], "type": "PresentationResponseMessage",
                              "presentation": list(presentations)})


def _nested_credential_inside(audience: str) -> Callable[[Signer], web.Response]:
    """A presentation the caller signs, enveloping a 'credential' nested 1,500 deep: it must be
    refused before any verifier walks it (the presentation itself is well-formed)."""
    credential = f"{_raw_b64(json.dumps({'typ': 'vc+jwt', 'alg': 'EdDSA'}))}." \
                 f"{_raw_b64('[' * 1500 + ']' * 1500)}.AA"

    def answer(signer: Signer) -> web.Response:
        vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": [credential]}
        return _responding(issue_vp_jwt(vp, signer, audience=audience))

    return answer


@pytest.mark.parametrize("case", ["nested", "surrogate", "not-utf8", "nan", "wrong-types",
                                  "nested-credential", "not-a-credential"])
async def test_a_hostile_credential_service_is_refused_not_a_crash(nodes, tmp_path, case):
    _, b, _, _, http = nodes
    json_answer = lambda text: web.Response(body=text, content_type="application/json")  # noqa: E731
    answer = {
        "nested": json_answer(b'{"presentation": ' * 5000 + b"[]" + b"}" * 5000),
        "surrogate": json_answer(b'{"@context": ["\\ud800"], "type": "PresentationResponseMessage", '
                                 b'"presentation": ["\\udfff"]}'),
        "not-utf8": json_answer(b'{"type": "\xff"}'),
        "nan": json_answer(b'{"presentation": [NaN]}'),
        "wrong-types": _responding(7, None, ["a"]),
        "nested-credential": _nested_credential_inside(b.did),
        "not-a-credential": lambda signer: _responding(issue_vp_jwt(
            {"@context": [VC_V2], "type": ["VerifiablePresentation"], "verifiableCredential": 5},
            signer, audience=b.did)),
    }[case]
    why = {"nested": "nests deeper", "surrogate": "lone surrogate", "not-utf8": "not UTF-8",
           "nan": "NaN", "wrong-types": "invalid message", "nested-credential": "well-formed",
           "not-a-credential": "not a credential"}[case]
    async with stranger(answer, tmp_path) as signer:
        status, body = await call(http, b, "/dsp/whoami", authorization(signer, b.did))
    assert status == 401 and body["@type"] == "CatalogError" and why in body["reason"][0]


async def test_a_hostile_id_token_is_a_dsp_401(nodes):
    _, b, _, _, http = nodes
    header = _raw_b64(json.dumps({"typ": "JWT", "alg": "EdDSA"}))
    for payload in ("[" * 1500 + "]" * 1500, '{"iss": "\\ud800"}'):  # within 8 KiB of header
        status, body = await call(http, b, "/dsp/negotiations/request",
                                  f"Bearer {header}.{_raw_b64(payload)}.AA", "POST", json={})
        assert status == 401 and body["@type"] == "ContractNegotiationError"
        assert "well-formed" in body["reason"][0]


async def test_an_oversized_body_is_refused(nodes):
    a, b, _, _, http = nodes
    big = b"x" * (b.config.max_body_bytes + 1)
    status, _ = await call(http, b, "/dsp/negotiations/request", authorization(a.signer, b.did),
                           "POST", data=io.BytesIO(big))
    assert status == 413
    status, _ = await call(http, a, "/credentials/presentations/query", None, "POST",
                           data=io.BytesIO(big))
    assert status == 413
    huge_header = "x" * 20_000  # aiohttp refuses it before any handler runs
    async with http.get(url(b, "/dsp/whoami"), headers={"Authorization": huge_header}) as response:
        assert response.status in (400, 431)


# --- the credential service refuses what it must ---------------------------------------------


def _query(*scopes: str) -> dict:
    return {"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": list(scopes)}


async def test_the_credential_service_answers_an_authorized_query(nodes):
    a, b, _, anchor, http = nodes
    bearer = issue_id_token(b.signer, a.did, access_token=issue_access_token(a.signer, b.did, [MEMBERSHIP]))
    status, body = await call(http, a, "/credentials/presentations/query", "Bearer " + bearer,
                              "POST", json=_query(MEMBERSHIP))
    assert status == 200 and schema_problems(RESPONSE, body) == []
    vp = _claims(body["presentation"][0])
    assert vp["holder"] == a.did and vp["aud"] == b.did and len(vp["verifiableCredential"]) == 2


@pytest.mark.parametrize("case", ["none", "no-bearer", "no-access-token", "stolen", "foreign",
                                  "replayed", "escalation", "definition", "invalid"])
async def test_the_credential_service_refuses_unauthorized_queries(nodes, tmp_path, case):
    a, b, _, _, http = nodes
    grant = issue_access_token(a.signer, b.did, [MEMBERSHIP])
    thief = Signer.for_did_key(generate_key("Ed25519"))
    bearer = issue_id_token(b.signer, a.did, access_token=grant)
    body: dict = _query(MEMBERSHIP)
    header, expected = "Bearer " + bearer, 401
    if case == "none":
        header = None
    elif case == "no-bearer":
        header = bearer
    elif case == "no-access-token":
        header = "Bearer " + issue_id_token(b.signer, a.did, access_token=None)
    elif case == "stolen":  # B's grant, presented by someone else
        header = "Bearer " + issue_id_token(thief, a.did, access_token=grant)
    elif case == "foreign":  # a grant A never issued
        header = "Bearer " + issue_id_token(b.signer, a.did,
                                            access_token=issue_access_token(thief, b.did, [MEMBERSHIP]))
    elif case == "replayed":
        assert (await call(http, a, "/credentials/presentations/query", header, "POST", json=body))[0] == 200
    elif case == "escalation":
        body, expected = _query(MEMBERSHIP, type_scope("SensitiveDataCredential")), 403
    elif case == "definition":
        body = {"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage",
                "presentationDefinition": {"id": "p", "input_descriptors": []}}
        expected = 501
    else:
        body, expected = {"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": []}, 400
    status, _ = await call(http, a, "/credentials/presentations/query", header, "POST", json=body)
    assert status == expected


# --- DCP's other profile: vc11-sl2021/jwt (VC 1.1 as VC-JWT) ----------------------------------


def anchor_signer(folder: Path) -> Signer:
    from connector.node import KEYS_DIR

    return Signer.for_store(KeyStore.open(folder / KEYS_DIR), did_web_from_url(load(folder).public_url))


async def test_a_member_holding_vc11_credentials_is_authenticated_with_them(nodes, folders):
    a, b, b_app, anchor, http = nodes
    for old in await a.credentials.list(role=Role.HELD):
        await a.credentials.delete(old.id, Role.HELD)
    vc11 = issue_credential(anchor_signer(folders[2]), a.did, ["MembershipCredential"],
                            {"level": "full"}, "jwt11")
    assert _claims(vc11)["vc"]["issuer"] == anchor  # the credential is in the vc claim
    await credentials.hold(a.credentials, a.resolver, a.did, vc11)
    b_app[AUTH].verifier.forget()
    async with dsp_request(http, "GET", url(b, "/dsp/whoami"), signer=a.signer) as response:
        assert response.status == 200, await response.text()
        seen = await response.json()
    assert seen == {"did": a.did, "credentials": [
        {"issuer": anchor, "types": ["VerifiableCredential", "MembershipCredential"]}]}


async def test_the_credential_service_answers_one_presentation_per_profile(nodes, folders):
    a, b, _, anchor, http = nodes
    vc11 = issue_credential(anchor_signer(folders[2]), a.did, ["MembershipCredential"], {}, "jwt11")
    await credentials.hold(a.credentials, a.resolver, a.did, vc11)

    async def ask(**extra) -> tuple[int, dict]:
        bearer = issue_id_token(b.signer, a.did, access_token=issue_access_token(a.signer, b.did, [MEMBERSHIP]))
        return await call(http, a, "/credentials/presentations/query", "Bearer " + bearer, "POST",
                          json={**_query(MEMBERSHIP), **extra})

    status, body = await ask()
    assert status == 200 and schema_problems(RESPONSE, body) == []
    vc20_vp, vc11_vp = (_claims(p) for p in body["presentation"])
    assert len(vc20_vp["verifiableCredential"]) == 2  # the vc+jwt and the LD one, as before
    assert vc11_vp["iss"] == a.did and vc11_vp["aud"] == b.did
    assert vc11_vp["vp"]["verifiableCredential"] == [vc11]
    status, body = await ask(profile="vc11-sl2021/jwt")
    assert status == 200 and [_claims(p)["vp"]["verifiableCredential"] for p in body["presentation"]] == [[vc11]]
    status, _ = await ask(profile="vc30-magic/jwt")
    assert status == 400


async def test_another_wallets_vc11_presentation_is_accepted(nodes, folders, tmp_path):
    """A wallet that writes VC-JWT 1.1 the minimal way (no typ, the issuer and subject only as
    claims, a bare credential JWT in the vp claim) is authenticated with its trusted credential."""
    _, b, _, anchor, http = nodes
    issuer = anchor_signer(folders[2])
    now = int(utcnow().timestamp())

    def answer(holder: Signer) -> web.Response:
        credential = {"@context": ["https://www.w3.org/2018/credentials/v1"],
                      "type": ["VerifiableCredential", "MembershipCredential"],
                      "credentialSubject": {"memberOf": "federation"}}
        vc = sign_jwt({}, {"iss": issuer.did, "sub": holder.did, "nbf": now - 60, "exp": now + 3600,
                           "jti": "urn:uuid:other-wallet", "vc": credential}, issuer)
        vp = sign_jwt({}, {"iss": holder.did, "aud": b.did, "iat": now, "exp": now + 300,
                           "jti": "urn:uuid:vp", "vp": {"@context": ["https://www.w3.org/2018/credentials/v1"],
                                                         "type": ["VerifiablePresentation"],
                                                         "verifiableCredential": [vc]}}, holder)
        return _responding(vp)

    async with stranger(answer, tmp_path) as signer:
        status, body = await call(http, b, "/dsp/whoami", authorization(signer, b.did))
    assert (status, body) == (200, {"did": signer.did, "credentials": [
        {"issuer": anchor, "types": ["VerifiableCredential", "MembershipCredential"]}]})


# --- credential status: the anchor node publishes its revocation list --------------------------


@pytest.fixture
async def with_anchor(folders):
    """A, B and the anchor C as a whole serving node (its management API issues and revokes)."""
    consumer, provider, anchor = folders
    async with serving(anchor) as c, running(consumer) as (a, _), running(provider) as (b, b_app):
        for old in await a.credentials.list(role=Role.HELD):
            await a.credentials.delete(old.id, Role.HELD)
        async with aiohttp.ClientSession() as http:
            yield a, b, b_app, c, http


@pytest.mark.parametrize("fmt", ["jwt", "jwt11"])
async def test_a_revoked_membership_credential_is_refused_at_authentication(with_anchor, fmt):
    a, b, b_app, c, http = with_anchor
    issued = []
    for _ in range(2):  # one to revoke, one that stays good
        async with http.post(f"{c.management}/api/v1/credentials/issue", headers=c.auth, json={
                "subject": a.did, "type": "MembershipCredential", "format": fmt, "status": True}) as response:
            assert response.status == 201, await response.text()
            issued.append(await response.json())
    await credentials.hold(a.credentials, a.resolver, a.did, issued[0]["credential"])

    async def whoami() -> tuple[int, dict]:
        b_app[AUTH].verifier.forget()
        b_app[AUTH].verifier.status.forget()
        return await call(http, b, "/dsp/whoami", authorization(a.signer, b.did))

    status, body = await whoami()
    assert status == 200 and body["credentials"][0]["issuer"] == c.did
    registry = StatusRegistry(c.running.node.config.home, c.running.node.config.public_url)
    stored, changed = await credentials.revoke(c.running.node.credentials, registry, issued[0]["id"])
    assert changed and stored.subject == a.did
    status, body = await whoami()
    scheme = "bitstring" if fmt == "jwt" else "sl2021"
    assert status == 401 and body["reason"][0] == (
        "a credential of the caller is not in good standing: the credential was revoked by its issuer "
        f"(status list {c.public}/credentials/status/{scheme}, entry "
        f"{issued[0]['credential'] and _entry(issued[0]['credential'])})")
    await a.credentials.delete(issued[0]["id"], Role.HELD)
    await credentials.hold(a.credentials, a.resolver, a.did, issued[1]["credential"])
    status, body = await whoami()  # the other credential of the same list is still good
    assert status == 200 and body["credentials"][0]["issuer"] == c.did


def _entry(jwt: str) -> str:
    claims = _claims(jwt)
    return (claims.get("vc") or claims)["credentialStatus"]["statusListIndex"]
