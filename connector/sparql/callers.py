"""Whose share a query counts against (share.py): a member by its DID, anyone else by address.

A member is a caller authenticated as on the DSP endpoints (a DCP self-issued ID token in
Authorization) that holds a verified MembershipCredential from a trust anchor: it has a share
of its own wherever it calls from. Anyone else, authenticated or not, counts against its
address, since a new DID costs nothing and a new address does. An IPv6 caller counts by its
/64 network, which one subscriber usually gets whole. A token that does not verify is refused
(401), never downgraded to anonymous.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from connector.auth.caller import MEMBERSHIP, Caller
from connector.sparql.engine import Limits
from connector.sparql.share import Client


async def client_of(request: web.Request, limits: Limits) -> Client:
    authorization = request.headers.get("Authorization")
    if authorization:
        caller = await _authenticate(request, authorization)
        if caller is not None and caller.has_credential(MEMBERSHIP):
            return Client(caller.did, limits.member)
    return Client(address_key(request.remote), limits.anonymous)


async def _authenticate(request: web.Request, authorization: str) -> Caller | None:
    """The caller, if the node's DCP authentication is there (a bare endpoint has none)."""
    # imported here: the node's composition takes seconds to import, and a serving node has it
    from connector.auth.resources import AUTH

    auth = request.config_dict.get(AUTH)
    return None if auth is None else await auth.verifier.authenticate(authorization)


def address_key(remote: str | None) -> str:
    if not remote:
        return "unknown address"
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
