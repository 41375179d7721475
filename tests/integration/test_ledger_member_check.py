"""A node's check of a registry member's self-description: the document a real node serves
passes against the digest the registry holds, fails against another digest, and a member whose
endpoint is an address the node may not reach is reported without a connection."""

from __future__ import annotations

import aiohttp
import pytest

from connector.identity.addresses import AddressPolicy
from connector.ledger.sdcheck import check_member
from connector.selfdescription.digest import claims_digest
from connector.selfdescription.publisher import Framework
from tests.nodes import init_node, serving


@pytest.fixture
def folder(tmp_path):
    return init_node(tmp_path / "member")


async def test_the_digest_the_registry_holds_is_checked(folder):
    async with serving(folder) as member, aiohttp.ClientSession() as session:
        node = member.running.node
        digest = claims_digest(node.self_descriptions.get(Framework.LOIRE).credentials.values())
        policy = AddressPolicy(allow_loopback=True)
        record = {"did": member.did, "endpoint": member.public, "sd_hash": digest}
        assert (await check_member(session, node.resolver, policy, record)).ok
        wrong = await check_member(session, node.resolver, policy, {**record, "sd_hash": "ab" * 32})
        assert [p for p in wrong.problems if p.startswith("[registry]")], wrong.problems
        someone = await check_member(session, node.resolver, policy,
                                     {**record, "did": "did:web:someone.example"})
        assert [p for p in someone.problems if p.startswith("[issuer]")], someone.problems


async def test_an_endpoint_the_node_may_not_reach_is_not_fetched(folder):
    async with serving(folder) as member, aiohttp.ClientSession() as session:
        record = {"did": member.did, "endpoint": member.public, "sd_hash": "00" * 32}
        found = await check_member(session, member.running.node.resolver, AddressPolicy(), record)
        assert [p for p in found.problems if p.startswith("[address]")] and not found.ok
