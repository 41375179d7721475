"""The negotiation's outbox sender (see connector/storage/sender.py): it sends what the
service saves with our DCP token, completes it or retries with backoff, and binds the
counterparty's pid from the answer to an opening message. A retried message the counterparty
refuses counts as sent when the counterparty's state shows an earlier attempt got through
(delivery.py). An address the node may not reach (checked again at each send: a name can
resolve elsewhere since), a refusal no retry can change, or too many failed attempts end the
negotiation. It runs while the public app serves
(a cleanup_ctx resource), so a restarted node resumes what it had left to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from connector.auth.client import deliver
from connector.catalog.resources import CATALOG, DSP_PATH
from connector.catalog.service import CatalogService
from connector.identity.addresses import AddressPolicy, AddressRefused
from connector.identity.callbacks import Callbacks
from connector.negotiation.delivery import delivered
from connector.negotiation.model import MessageKind, Role
from connector.negotiation.service import NegotiationService, now
from connector.negotiation.sql import SqlNegotiationStore
from connector.negotiation.store import OutboxMessage
from connector.node import NODE, Node
from connector.storage.outbox import PERMANENT
from connector.storage.sender import OutboxSender

log = logging.getLogger(__name__)
NEGOTIATIONS = web.AppKey("negotiations", NegotiationService)


class Manager(OutboxSender):
    name = "negotiation outbox"

    def __init__(self, service: NegotiationService) -> None:
        super().__init__(service.handoff, service.store)
        self.service = service

    def process_of(self, message: OutboxMessage) -> str:
        return message.negotiation_id

    async def send(self, message: OutboxMessage) -> None:
        service = self.service
        try:
            await service.callbacks.target(message.recipient)
        except AddressRefused as exc:
            await self.give_up(message, str(exc))
            return
        sent = await deliver(service.session, message.recipient, message.payload,
                             signer=service.signer, audience_did=message.audience)
        if 200 <= sent.status < 300:
            if message.kind in (MessageKind.CONTRACT_REQUEST, MessageKind.CONTRACT_OFFER):
                await service.bind(message.negotiation_id, sent.body)
            await service.store.complete(message.id, self.owner, now())
        elif sent.status in PERMANENT:
            if message.attempts and await delivered(service, message):
                # an earlier attempt got through and only its answer was lost (delivery.py)
                log.info("%s to %s was delivered before: %s", message.kind.value, message.recipient, sent.error)
                await service.store.complete(message.id, self.owner, now())
                return
            await self.give_up(message, f"the counterparty refused it: {sent.error}")
        else:
            await self.retry_later(message, sent.error or f"status {sent.status}")

    async def give_up(self, message: OutboxMessage, reason: str) -> None:
        log.warning("giving up %s to %s: %s", message.kind.value, message.recipient, reason)
        await self.service.store.complete(message.id, self.owner, now())
        if message.kind is not MessageKind.TERMINATION:
            await self.service.fail(message.negotiation_id)


def service_for(node: Node, catalog: CatalogService | None = None) -> NegotiationService:
    config = node.config
    return NegotiationService(
        store=SqlNegotiationStore(node.database), did=node.did,
        dsp_url=config.public_url.rstrip("/") + DSP_PATH, signer=node.signer,
        session=node.session, resolver=node.resolver, catalog=catalog,
        manual=frozenset(role for role, how in ((Role.PROVIDER, config.provider_decisions),
                                                (Role.CONSUMER, config.consumer_decisions))
                         if how == "manual"),
        callbacks=Callbacks(node.resolver, AddressPolicy.for_node(config),
                            frozenset(config.callback_origins)),
    )


async def negotiation_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the public app, after catalog_context: the service and its sender."""
    if NEGOTIATIONS not in app:  # the server gives both apps one service
        app[NEGOTIATIONS] = service_for(app[NODE], app.get(CATALOG))
    task = asyncio.create_task(Manager(app[NEGOTIATIONS]).run(), name="negotiation-outbox")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def management_negotiations(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the management app: the service (the public app's manager sends)."""
    if NEGOTIATIONS not in app:
        app[NEGOTIATIONS] = service_for(app[NODE])
    yield
