"""A real node over real HTTP: the public surface, the management API and its guard."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from connector.app.apps import build_management_app
from connector.app.openapi import PATHS
from connector.identity.resolver import DidResolver
from tests.nodes import client, init_node, serving


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory):
    return init_node(tmp_path_factory.mktemp("acme"))


async def test_did_json_is_the_did_web_of_the_public_url(node_dir):
    async with serving(node_dir) as node, client() as http:
        async with http.get(f"{node.public}/.well-known/did.json") as response:
            assert response.status == 200
            assert response.content_type == "application/did+json"
            document = await response.json()
    port = node.public.rsplit(":", 1)[1]
    assert document["id"] == f"did:web:127.0.0.1%3A{port}"
    kinds = {m["type"] for m in document["verificationMethod"]}
    assert kinds == {"Ed25519VerificationKey2020", "JsonWebKey2020"}
    assert {
        m["publicKeyJwk"]["crv"] for m in document["verificationMethod"] if "publicKeyJwk" in m
    } == {"P-256"}
    services = {s["type"]: s["serviceEndpoint"] for s in document["service"]}
    assert services["DataService"] == f"{node.public}/.well-known/dspace-version"
    assert services["CredentialService"] == f"{node.public}/credentials"


async def test_another_party_resolves_the_did_over_http(node_dir):
    async with serving(node_dir) as node, client() as http:
        resolved = await DidResolver(http).resolve(node.did)
        key = await DidResolver(http).verification_key(f"{node.did}#key-p256", "assertionMethod")
    assert resolved["id"] == node.did
    assert key["crv"] == "P-256"


async def test_health_and_metrics(node_dir):
    async with serving(node_dir) as node, client() as http:
        async with http.get(f"{node.public}/health/live") as live:
            assert live.status == 200
        async with http.get(f"{node.public}/health/ready") as ready:
            assert (await ready.json())["checks"] == {"database": True}
        async with http.get(f"{node.public}/metrics") as metrics:
            text = await metrics.text()
    assert (
        'communs_http_requests_total{app="public",method="GET",route="/health/live",status="200"} 1.0'
        in text
    )
    assert "communs_up 1.0" in text


async def test_management_api_needs_the_token(node_dir):
    async with serving(node_dir) as node, client() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": node.token}):
            async with http.get(f"{node.management}/api/v1/node", headers=headers) as response:
                assert response.status == 401
                assert response.content_type == "application/problem+json"
                problem = await response.json()
                assert problem["status"] == 401 and "token" in problem["detail"]
        async with http.get(f"{node.management}/api/v1/node", headers=node.auth) as response:
            assert response.status == 200
            info = await response.json()
    assert info["did"] == node.did and info["name"] == "ACME SAS"


async def test_management_is_not_on_the_public_port(node_dir):
    async with serving(node_dir) as node, client() as http:
        async with http.get(f"{node.public}/api/v1/node", headers=node.auth) as response:
            assert response.status == 404


async def test_request_ids_are_echoed_or_made(node_dir):
    async with serving(node_dir) as node, client() as http:
        async with http.get(
            f"{node.public}/health/live", headers={"X-Request-Id": "abc-123"}
        ) as response:
            assert response.headers["X-Request-Id"] == "abc-123"
        async with http.get(
            f"{node.public}/health/live", headers={"X-Request-Id": "bad id\twith tabs"}
        ) as response:
            assert len(response.headers["X-Request-Id"]) == 32


async def test_bad_bodies_get_problems_and_change_nothing(node_dir):
    async with serving(node_dir) as node, client() as http:
        url = f"{node.management}/api/v1/credentials/issue"
        async with http.post(url, data=b"{not json", headers=node.auth) as response:
            assert response.status == 400
            assert "not valid JSON" in (await response.json())["detail"]
        big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
        async with http.post(url, data=big, headers=node.auth) as response:
            assert response.status == 413
            assert (await response.json())["title"] == "too-large"
        async with http.post(
            url, json={"subject": "not-a-did", "type": "X"}, headers=node.auth
        ) as response:
            assert response.status == 400
        async with http.get(f"{node.management}/api/v1/credentials", headers=node.auth) as response:
            assert (await response.json())["items"] == []


async def test_openapi_document_is_valid_and_covers_every_route(node_dir):
    async with serving(node_dir) as node, client() as http:
        async with http.get(f"{node.management}/api/openapi.json") as response:
            document = await response.json()
        async with http.get(f"{node.management}/api/docs") as response:
            page = await response.text()
        async with http.get(f"{node.management}/api/docs/static/swagger-ui-bundle.js") as response:
            assert response.status == 200
    validate(document)
    assert "https://" not in page and "http://" not in page  # works offline: no CDN
    routes = {
        (r.method.lower(), r.resource.canonical)
        for r in build_management_app(node.running.node, "x" * 32).router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith("/api/v1/")
        and r.method != "HEAD"
    }
    documented = {(method, path) for path, ops in PATHS.items() for method in ops}
    assert routes == documented
