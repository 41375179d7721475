"""The audit trail: as provider, the node anchors on the ledger each finalized agreement (the
hash of the signed agreement, provider, consumer, dataset, hash of the policy) and each compute
receipt (the hash of the signed receipt). A worker does it after the fact ("persist, then
act"), so a ledger that is down delays anchors and loses none: what is not anchored yet is
found again at the next round, and one anchored already is never sent twice."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from connector.compute.model import Role as JobRole
from connector.errors import ConnectorError
from connector.ledger.account import RefusedTx
from connector.ledger.market import digest
from connector.negotiation.model import Role, State
from ledger.app.market import client as market

log = logging.getLogger("communs.ledger")
ROUND = 1.0  # seconds between two looks for what to anchor
PAGE = 100  # records looked through at once
POLICY_PARTS = ("target", "assigner", "assignee", "permission", "prohibition", "obligation")


def agreement_digest(agreement: dict[str, Any]) -> str:
    """The hash of the signed agreement as both parties hold it."""
    return digest(agreement)


def policy_digest(agreement: dict[str, Any]) -> str:
    """The hash of what the agreement allows and asks, without its ids, time and signature."""
    return digest({k: agreement[k] for k in POLICY_PARTS if k in agreement})


def receipt_digest(receipt: str) -> str:
    return hashlib.sha256(receipt.encode()).hexdigest()


class Anchorer:
    def __init__(self, service: Any, negotiations: Any, jobs: Any) -> None:
        self.service = service  # connector.ledger.service.LedgerService
        self.negotiations = negotiations  # connector.negotiation.store.NegotiationStore
        self.jobs = jobs  # connector.compute.store.ComputeStore, or None
        self.done: set[tuple[str, str]] = set()  # (kind, id) anchored, or refused for good
        self.behind = True  # look through everything (at start, and after a round that failed)

    async def run(self) -> None:
        while True:
            try:
                await self.anchor_pending(everything=self.behind)
                self.behind = False
            except ConnectorError as exc:
                log.warning("anchoring paused: %s", exc)
                self.behind = True
            except Exception:  # noqa: BLE001 - the worker must outlive one bad round
                log.exception("anchoring failed; retrying")
                self.behind = True
            await asyncio.sleep(ROUND)

    async def anchor_pending(self, everything: bool = False) -> int:
        """Anchor what is not anchored yet among the newest agreements and receipts (all of
        them with EVERYTHING)."""
        sent = 0
        key, me = self.service.account.key, self.service.did
        async for n in _pages(lambda limit, offset: self.negotiations.list(
                state=State.FINALIZED, role=Role.PROVIDER, limit=limit, offset=offset), everything):
            a = n.agreement or {}
            if isinstance(a.get("@id"), str):
                sent += await self._anchor("agreement", a["@id"], lambda a=a, n=n: market.agreement_anchor_msg(
                    key, a["@id"], agreement_digest(a), n.dataset_id or str(a.get("target")),
                    me, n.counterparty_did, policy_digest(a)))
        if self.jobs is None:
            return sent
        async for job in _pages(lambda limit, offset: self.jobs.list(
                role=JobRole.PROVIDER, limit=limit, offset=offset), everything):
            if job.state.final and job.receipt:  # the receipt of a finished job is final
                sent += await self._anchor("receipt", job.id, lambda job=job: market.receipt_anchor_msg(
                    key, job.id, receipt_digest(job.receipt), job.agreement_id, job.dataset_iri,
                    me, job.counterparty_did))
        return sent

    async def _anchor(self, kind: str, id_: str, message: Callable[[], Any]) -> int:
        if (kind, id_) in self.done:
            return 0
        sent = 0
        if await self.service.anchor(kind, id_) is None:
            try:
                await self.service.account.submit([message()])
                log.info("anchored %s %s", kind, id_)
                sent = 1
            except RefusedTx as exc:  # refused for good ("already anchored", a field too long)
                if "already anchored" not in str(exc):
                    log.warning("%s %s cannot be anchored: %s", kind, id_, exc)
        self.done.add((kind, id_))
        return sent


async def _pages(page: Callable[[int, int], Awaitable[list[Any]]], everything: bool) -> AsyncIterator[Any]:
    """The newest PAGE of records, or all of them page by page."""
    offset = 0
    while True:
        found = await page(PAGE, offset)
        for item in found:
            yield item
        if not everything or len(found) < PAGE:
            return
        offset += PAGE
