"""The authentication resources of a public app: one replay guard, verifier and holder per node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from connector.auth.credential_service import Holder
from connector.auth.replay import ReplayGuard
from connector.auth.sql import SqlJtiStore
from connector.auth.verifier import CallerVerifier
from connector.credentials.trust import TrustAnchors
from connector.identity.statuslists import StatusLists
from connector.ledger.service import LEDGER
from connector.node import NODE


@dataclass
class Auth:
    verifier: CallerVerifier  # provider side: who calls our DSP endpoints
    holder: Holder  # consumer side: our credential service


AUTH = web.AppKey("auth", Auth)


async def auth_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: both sides share one persisted jti store (the node's database)."""
    node = app[NODE]
    guard = ReplayGuard(SqlJtiStore(node.database))
    signer = node.signer
    ledger = app.get(LEDGER)  # the registry's members and anchors, when the node has a ledger
    app[AUTH] = Auth(
        verifier=CallerVerifier(signer, node.resolver, node.session, guard,
                                TrustAnchors(node.config, node.did, ledger),
                                max_bytes=node.config.max_body_bytes,
                                status=StatusLists(node.resolver, node.session),
                                registry=ledger),
        holder=Holder(signer, node.resolver, node.credentials, guard),
    )
    yield
