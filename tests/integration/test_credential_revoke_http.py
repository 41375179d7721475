"""Revoking through the management API: the node's published status list changes at once, a
second revocation says so, and a credential issued without a status entry cannot be revoked."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from tests.nodes import client, init_node, serving


def _bits(jwt: str) -> bytes:
    payload = jwt.split(".")[1]
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    encoded = document["credentialSubject"]["encodedList"].removeprefix("u")
    return gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


@pytest.fixture
def folder(tmp_path):
    return init_node(tmp_path / "issuer", registration="leiCode:529900T8BM49AURSDO55")


async def test_revoke_over_the_management_api(folder):
    async with serving(folder) as node, client() as http:
        body = {"subject": "did:web:member.example", "type": "MembershipCredential",
                "status": True}
        async with http.post(f"{node.management}/api/v1/credentials/issue", json=body,
                             headers=node.auth) as response:
            assert response.status == 201, await response.text()
            issued = await response.json()
        revoke = f"{node.management}/api/v1/credentials/issued/{issued['id']}/revoke"
        async with http.post(revoke) as response:
            assert response.status == 401  # behind the management token like the rest
        async with http.post(f"{node.public}/credentials/status/bitstring") as response:
            assert response.status == 405
        async with http.get(f"{node.public}/credentials/status/bitstring") as response:
            assert _bits(await response.text())[0] & 0x80 == 0
        async with http.post(revoke, headers=node.auth) as response:
            assert response.status == 200 and (await response.json())["changed"] is True
        async with http.get(f"{node.public}/credentials/status/bitstring") as response:
            assert _bits(await response.text())[0] & 0x80
        async with http.post(revoke, headers=node.auth) as response:
            assert (await response.json())["changed"] is False
        plain = {k: v for k, v in body.items() if k != "status"}
        async with http.post(f"{node.management}/api/v1/credentials/issue", json=plain,
                             headers=node.auth) as response:
            other = (await response.json())["id"]
        async with http.post(f"{node.management}/api/v1/credentials/issued/{other}/revoke",
                             headers=node.auth) as response:
            assert response.status == 400
            assert "without a status entry" in (await response.json())["detail"]
