"""The transfer's background work while the public app serves (cleanup_ctx resources):

- the outbox sender (see connector/storage/sender.py): sends what the service saves with our
  DCP token (a PULL start gets its token secrets filled in only then), completes it or
  retries with backoff; a restarted node resumes what it had left to send. An address the
  node may not reach (checked again at each send), a refusal no retry can change, or too many
  failed attempts end the transfer, with the reason;
- the PUSH worker: streams each STARTED PUSH transfer's data to the consumer's endpoint,
  connecting to the address it checked, then completes it (a failed push is retried with
  backoff, then terminated);
- the policy monitor: terminates STARTED and SUSPENDED transfers whose agreement no longer
  allows access in time (dateTime, elapsedTime), which also revokes their tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from connector.auth.client import deliver
from connector.catalog.resources import CATALOG, DSP_PATH
from connector.catalog.service import CatalogService
from connector.identity.addresses import AddressRefused
from connector.ledger.service import LEDGER
from connector.negotiation.manager import NEGOTIATIONS
from connector.negotiation.model import Role
from connector.negotiation.service import NegotiationService
from connector.node import NODE, Node
from connector.storage.outbox import PERMANENT, backoff
from connector.storage.sender import POLL, OutboxSender
from connector.transfer import codec
from connector.transfer.model import PUSH, MessageKind, State, TransferProcess
from connector.transfer.service import TransferError, TransferService, now
from connector.transfer.sql import SqlTransferStore
from connector.transfer.store import OutboxMessage

log = logging.getLogger(__name__)
TRANSFERS = web.AppKey("transfers", TransferService)
MONITOR_EVERY = 5.0  # seconds between two policy checks of live transfers
PUSH_ATTEMPTS = 5
PUSHES = 4  # PUSH transfers under way at once
CHUNK = 1 << 20


class Manager(OutboxSender):
    name = "transfer outbox"

    def __init__(self, service: TransferService) -> None:
        super().__init__(service.handoff, service.store)
        self.service = service
        self.pushing: set[str] = set()
        self.push_failures: dict[str, int] = {}

    # ---- outbox -------------------------------------------------------------------------

    def process_of(self, message: OutboxMessage) -> str:
        return message.transfer_id

    async def send(self, message: OutboxMessage) -> None:
        service = self.service
        try:
            await service.callbacks.target(message.recipient)
        except AddressRefused as exc:
            await self.give_up(message, str(exc))
            return
        p = await service.store.get(message.transfer_id)
        sent = await deliver(service.session, message.recipient, service.reveal(message),
                             signer=service.signer, audience_did=p.counterparty_did if p else None)
        if 200 <= sent.status < 300:
            if message.kind is MessageKind.REQUEST:
                await service.bind(message.transfer_id, sent.body)
            await service.store.complete(message.id, self.owner, now())
        elif sent.status in PERMANENT:
            await self.give_up(message, f"the counterparty refused it: {sent.error}")
        else:
            await self.retry_later(message, sent.error or f"status {sent.status}")

    async def give_up(self, message: OutboxMessage, reason: str) -> None:
        log.warning("giving up %s to %s: %s", message.kind.value, message.recipient, reason)
        await self.service.store.complete(message.id, self.owner, now())
        if message.kind is not MessageKind.TERMINATION:
            why = f"{message.kind.value} could not be delivered: {reason}"
            await self.service.fail(message.transfer_id, why[:500])

    # ---- PUSH ---------------------------------------------------------------------------

    async def push(self, p: TransferProcess) -> None:
        service = self.service
        try:
            refusal = await service.refusal(p)
            if refusal is None:
                await self._push(p)
                await service.store.use(p.agreement_id)
            current = await service.store.get(p.id)
            if current is not None and current.state is State.STARTED:
                kind = MessageKind.COMPLETION if refusal is None else MessageKind.TERMINATION
                await service.step(current, kind, reason=refusal)
            self.push_failures.pop(p.id, None)
        except (TimeoutError, aiohttp.ClientError, OSError, _PushRefused) as exc:
            failures = self.push_failures[p.id] = self.push_failures.get(p.id, 0) + 1
            log.warning("pushing %s failed (%d): %s", p.id, failures, exc)
            if failures >= PUSH_ATTEMPTS or isinstance(exc, _PushRefused):
                current = await service.store.get(p.id)
                if current is not None and current.state is State.STARTED:
                    await service.step(current, MessageKind.TERMINATION, reason=f"the push failed: {exc}"[:300])
            else:
                await asyncio.sleep(backoff(failures, base=timedelta(seconds=0.5)).total_seconds())
        except TransferError as exc:
            log.warning("ending pushed transfer %s: %s", p.id, exc)
        finally:
            self.pushing.discard(p.id)

    async def _push(self, p: TransferProcess) -> None:
        address = p.data_address or {}
        props = codec.properties(address)
        headers = {}
        if "authorization" in props:
            scheme = props.get("authType", "bearer")
            value = props["authorization"]
            headers["Authorization"] = f"Bearer {value}" if scheme.lower() == "bearer" else value
        try:  # connect to the address checked now: the name may resolve elsewhere since the request
            target = await self.service.callbacks.target(address.get("endpoint"))
        except AddressRefused as exc:
            raise _PushRefused(str(exc)) from None
        found = await self.service.source(p)
        if found is None:
            raise _PushRefused("the dataset has no distribution we can serve")
        path, url = found
        body: Any = _file_chunks(path) if path is not None else _remote_chunks(self.service.session, url)
        method = props.get("method", "POST").upper()
        async with self.service.session.request(method, target.url, data=body, headers={**headers, **target.headers},
                                                server_hostname=target.server_hostname,
                                                allow_redirects=False) as response:
            if response.status in PERMANENT:
                raise _PushRefused(f"the endpoint answered {response.status}")
            if response.status >= 300:
                raise aiohttp.ClientError(f"the endpoint answered {response.status}")

    async def push_loop(self) -> None:
        """Each STARTED PUSH transfer in a task of its own (at most PUSHES at once), all of
        them cancelled with the loop: a restarted node pushes again from the start."""
        tasks: set[asyncio.Task] = set()
        try:
            while True:
                try:
                    for p in await self.service.store.live(Role.PROVIDER):
                        if (p.format == PUSH and p.state is State.STARTED and p.id not in self.pushing
                                and len(tasks) < PUSHES):
                            self.pushing.add(p.id)
                            task = asyncio.create_task(self.push(p), name=f"push-{p.id}")
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)
                except Exception:  # noqa: BLE001
                    log.exception("the push loop failed; retrying")
                await asyncio.sleep(POLL * 5)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # ---- policy monitor -----------------------------------------------------------------

    async def monitor_once(self, counterparty: str | None = None) -> int:
        """End the live transfers (of COUNTERPARTY only, when given) that may not go on."""
        ended = 0
        for p in await self.service.store.live(Role.PROVIDER):
            if counterparty is not None and p.counterparty_did != counterparty:
                continue
            refusal = await self.service.refusal(p, expiry_only=True)
            if refusal is None:
                continue
            try:
                await self.service.step(p, MessageKind.TERMINATION, reason=f"the agreement has expired or no longer allows this transfer: {refusal}"[:500])
                ended += 1
            except TransferError as exc:  # it moved meanwhile: the next round sees it again
                log.info("monitor: %s: %s", p.id, exc)
        return ended

    async def monitor(self, every: float = MONITOR_EVERY) -> None:
        while True:
            try:
                await self.monitor_once()
            except Exception:  # noqa: BLE001
                log.exception("the policy monitor failed; retrying")
            await asyncio.sleep(every)


class _PushRefused(Exception):
    """The consumer's endpoint refused the data for good."""


async def _file_chunks(path: Any) -> AsyncIterator[bytes]:
    with open(path, "rb") as handle:  # noqa: ASYNC230 - chunked reads off the loop below
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk


async def _remote_chunks(session: aiohttp.ClientSession, url: str) -> AsyncIterator[bytes]:
    async with session.get(url, allow_redirects=False) as response:
        if response.status != 200:
            raise aiohttp.ClientError(f"the source answered {response.status}")
        async for chunk in response.content.iter_chunked(CHUNK):
            yield chunk


def service_for(node: Node, negotiations: NegotiationService,
                catalog: CatalogService | None = None) -> TransferService:
    public = node.config.public_url.rstrip("/")
    return TransferService(store=SqlTransferStore(node.database), did=node.did, dsp_url=public + DSP_PATH,
                           public_url=public, signer=node.signer, session=node.session,
                           negotiations=negotiations, catalog=catalog,
                           manual=node.config.transfer_provider_decisions == "manual")


async def transfer_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the public app, after negotiation_context: the service, its sender, the
    PUSH worker and the policy monitor."""
    if TRANSFERS not in app:  # the server may give both apps one service
        app[TRANSFERS] = service_for(app[NODE], app[NEGOTIATIONS], app.get(CATALOG))
    manager = Manager(app[TRANSFERS])
    if (ledger := app.get(LEDGER)) is not None:
        app[TRANSFERS].ledger = ledger

        async def recheck(did: str, record: object) -> None:  # a member's status changed
            await manager.monitor_once(did)

        ledger.registry.listeners.append(recheck)
    # a restart revokes every access token it finds: one that leaked dies with the process;
    # a consumer whose download was under way goes on with its refresh token
    if revoked := await app[TRANSFERS].store.revoke_access():
        log.info("revoked %d access tokens at start", revoked)
    tasks = [asyncio.create_task(manager.run(), name="transfer-outbox"),
             asyncio.create_task(manager.push_loop(), name="transfer-push"),
             asyncio.create_task(manager.monitor(), name="transfer-policy-monitor")]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def management_transfers(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx for the management app, after management_negotiations (the public app's
    manager sends what it queues)."""
    if TRANSFERS not in app:
        app[TRANSFERS] = service_for(app[NODE], app[NEGOTIATIONS], app.get(CATALOG))
    yield
