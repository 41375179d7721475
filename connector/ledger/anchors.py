"""The audit trail: as provider, the node anchors on the ledger each finalized agreement (the
hash of the signed agreement, provider, consumer, dataset, hash of the policy) and each compute
receipt (the hash of the signed receipt). A worker does it after the fact ("persist, then
act"), so a ledger that is down delays anchors and loses none: what is not anchored yet is
found again at the next round, and one anchored already is never sent twice."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from connector.compute.model import Role as JobRole
from connector.errors import ConnectorError
from connector.ledger.market import digest
from connector.negotiation.model import Role, State
from ledger.app.market import client as market

log = logging.getLogger("communs.ledger")
ROUND = 1.0  # seconds between two looks for what to anchor
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
        self.done: set[tuple[str, str]] = set()  # (kind, id) known to be anchored

    async def run(self) -> None:
        while True:
            try:
                await self.anchor_pending()
            except ConnectorError as exc:
                log.warning("anchoring paused: %s", exc)
            except Exception:  # noqa: BLE001 - the worker must outlive one bad round
                log.exception("anchoring failed; retrying")
            await asyncio.sleep(ROUND)

    async def anchor_pending(self) -> int:
        """Anchor what is not anchored yet among the newest agreements and receipts."""
        sent = 0
        key, me = self.service.account.key, self.service.did
        for n in await self.negotiations.list(state=State.FINALIZED, role=Role.PROVIDER):
            a = n.agreement or {}
            if isinstance(a.get("@id"), str):
                sent += await self._anchor("agreement", a["@id"], market.agreement_anchor_msg(
                    key, a["@id"], agreement_digest(a), n.dataset_id or str(a.get("target")),
                    me, n.counterparty_did, policy_digest(a)))
        for job in await self.jobs.list(role=JobRole.PROVIDER) if self.jobs else ():
            if job.state.final and job.receipt:  # the receipt of a finished job is final
                sent += await self._anchor("receipt", job.id, market.receipt_anchor_msg(
                    key, job.id, receipt_digest(job.receipt), job.agreement_id, job.dataset_iri,
                    me, job.counterparty_did))
        return sent

    async def _anchor(self, kind: str, id_: str, message: Any) -> int:
        if (kind, id_) in self.done:
            return 0
        sent = 0
        if await self.service.anchor(kind, id_) is None:
            try:
                await self.service.account.submit([message])
                log.info("anchored %s %s", kind, id_)
                sent = 1
            except ConnectorError as exc:
                if "already anchored" not in str(exc):
                    raise
        self.done.add((kind, id_))
        return sent
