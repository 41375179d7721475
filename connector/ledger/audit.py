"""`communs audit AGREEMENT_ID`: an agreement as this node holds it, checked against its anchor
on the ledger, with the payments made under it and the transfers and compute jobs it covered
(each job's receipt against its own anchor). Every ledger answer is proven against signed
headers; `intact` is false when anything held here differs from what was anchored."""

from __future__ import annotations

from typing import Any

from connector.errors import ConnectorError, Reason
from connector.ledger.anchors import agreement_digest, policy_digest, receipt_digest

SCANNED = 500  # transfers and jobs looked through (newest first)


def _anchor_view(anchor: dict[str, Any] | None, expected: str, proof: str) -> dict[str, Any]:
    if anchor is None:
        return {"anchored": False, "matches": False, "proof": proof}
    return {"anchored": True, "matches": anchor.get("digest") == expected, "anchor": anchor,
            "proof": proof}


async def audit(ledger: Any, negotiations: Any, transfers: Any, jobs: Any,
                agreement_id: str) -> dict[str, Any]:
    """LEDGER: the LedgerService; the others: this node's stores."""
    n = await negotiations.by_agreement(agreement_id)
    if n is None or not n.agreement:
        raise ConnectorError(Reason.NOT_FOUND, f"this node holds no agreement {agreement_id}")
    agreement = n.agreement
    held = agreement_digest(agreement)
    found = await ledger.ledger.read("/market/anchor", f"agreement/{agreement_id}".encode())
    anchor = _anchor_view(found.doc, held, found.proof)
    if found.doc is not None:
        anchor["policyMatches"] = found.doc.get("policy_hash") == policy_digest(agreement)
        anchor["partiesMatch"] = {found.doc.get("provider_did"), found.doc.get("consumer_did")} \
            == {agreement.get("assigner"), agreement.get("assignee")}
    paid = await ledger.ledger.read("/market/payments", agreement_id.encode(), found.height)
    covered = [p for p in await transfers.list(limit=SCANNED) if p.agreement_id == agreement_id]
    ran = [j for j in await jobs.list(limit=SCANNED) if j.agreement_id == agreement_id]
    receipts = []
    for job in ran:
        entry: dict[str, Any] = {"id": job.id, "state": job.state.value}
        if job.receipt:
            remote = job.remote_id if n.role.value == "CONSUMER" else None
            r = await ledger.ledger.read("/market/anchor", f"receipt/{remote or job.id}".encode(),
                                         found.height)
            entry["receipt"] = _anchor_view(r.doc, receipt_digest(job.receipt), r.proof)
        receipts.append(entry)
    intact = anchor["matches"] and anchor.get("policyMatches", False) \
        and anchor.get("partiesMatch", False) \
        and all(e["receipt"]["matches"] for e in receipts if "receipt" in e)
    return {"agreementId": agreement_id, "role": n.role.value, "counterparty": n.counterparty_did,
            "dataset": n.dataset_id, "agreement": agreement, "digest": held,
            "policyDigest": policy_digest(agreement), "anchor": anchor,
            "payments": {**(paid.doc or {}), "proof": paid.proof}, "height": found.height,
            "transfers": [{"id": p.id, "state": p.state.value, "role": p.role.value}
                          for p in covered],
            "jobs": receipts, "intact": bool(intact)}
