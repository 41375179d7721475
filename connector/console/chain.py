"""What the Ledger page shows, read through the node's LedgerService (never RPC of our own):
its status and proposals, and, for display only, the lists its ledger link reads unproven
(validators, members, anchors, listings, value) and the recent blocks with who signed them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

from connector.console.charts import Series, bars, lines
from connector.errors import ConnectorError

RECENT_BLOCKS = 10
VALUE_SAMPLES = 8
CHART_PARTS = ("paid", "contributors", "extracted")  # paid in, returned to contributors, kept by the infrastructure


async def _or_none(step: Any) -> Any:
    try:
        return await step
    except ConnectorError:
        return None


async def blocks(service: Any) -> list[dict[str, Any]]:
    """The latest blocks, newest first, each with the consensus addresses that signed its parent."""
    top = service.height + 1
    found = await asyncio.gather(*(service.ledger.block(h) for h in range(top, max(0, top - RECENT_BLOCKS), -1)),
                                 return_exceptions=True)
    out = []
    for b in found:
        if not isinstance(b, dict):
            continue
        signatures = (b.get("last_commit") or {}).get("signatures") or []
        signed = {str(s.get("validator_address", "")).upper() for s in signatures
                  if s.get("block_id_flag") in (2, "BLOCK_ID_FLAG_COMMIT")}
        out.append({"height": b["height"], "hash": b["hash"], "time": _when(b["time"]),
                    "txs": b["num_txs"], "tx_hashes": [_tx_hash(t) for t in b.get("txs") or []],
                    "proposer": b["header"].get("proposer_address", ""), "signed": signed})
    return out


def _tx_hash(tx: str) -> str:
    """A transaction's hash as CometBFT names it (SHA-256 of its bytes, upper-case hex)."""
    try:
        return hashlib.sha256(base64.b64decode(tx)).hexdigest().upper()
    except (ValueError, TypeError):
        return "?"


def _when(value: Any) -> str:
    """A block's time: milliseconds since the epoch (our engine) or RFC 3339 (CometBFT)."""
    if isinstance(value, int | float) or str(value).isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)[:19].replace("T", " ")


def com(ucom: Any) -> str:
    """An amount in ucom as people read it: 1234.5 com."""
    try:
        n = int(ucom)
    except (TypeError, ValueError):
        return "unknown"
    whole, part = divmod(abs(n), 1_000_000)
    text = f"{whole:,}" + (f".{part:06d}".rstrip("0") if part else "")
    return f"{'-' if n < 0 else ''}{text} com"


def uptime(validators: list[dict[str, Any]], recent: list[dict[str, Any]]) -> None:
    """Each validator's share of the recent blocks it signed (blocks after the first)."""
    counted = [b for b in recent if int(b["height"]) > 1]
    for v in validators:
        address = str(v.get("consensus_address", "")).upper()
        v["uptime"] = (f"{100 * sum(address in b['signed'] for b in counted) // len(counted)} % of the last "
                       f"{len(counted)} blocks") if counted else "no block yet"


async def value_history(service: Any) -> tuple[list[int], dict[str, list[int]]]:
    """The federation's value totals at a few heights from the first block to the latest."""
    top = service.height
    heights = sorted({max(1, top * k // (VALUE_SAMPLES - 1)) for k in range(VALUE_SAMPLES)}) if top else []

    async def at(h: int) -> dict[str, Any] | None:
        try:
            return await service.ledger.unproven("/market/value", b"", h)
        except ConnectorError:  # a pruned height or an older ledger: a gap in the line
            return None

    found = await asyncio.gather(*(at(h) for h in heights))
    kept = [(h, v) for h, v in zip(heights, found, strict=True) if v is not None]
    return [h for h, _ in kept], {p: [int(v.get(p, 0)) for _, v in kept] for p in CHART_PARTS}


async def view(service: Any) -> dict[str, Any]:
    status = await service.status()
    if status.get("problem"):
        return {"status": status}
    unproven = service.ledger.unproven
    validators, members, anchors, listings, proposals, delegations, recent, (xs, history) = await asyncio.gather(
        _or_none(unproven("/staking/validators")), _or_none(unproven("/registry/members")),
        _or_none(unproven("/registry/anchors")), _or_none(unproven("/market/listings")),
        _or_none(service.proposals()),
        _or_none(unproven("/staking/delegations", status["account"].encode())),
        blocks(service), value_history(service))
    validators = (validators or {}).get("validators", [])
    uptime(validators, recent)
    listings = (listings or {}).get("listings", [])
    values = await asyncio.gather(*(_or_none(unproven("/market/value", x["dataset_id"].encode())) for x in listings))
    per_dataset = [(x["dataset_id"], v) for x, v in zip(listings, values, strict=True) if v]
    charts = {}
    if per_dataset:
        charts["datasets"] = bars([d for d, _ in per_dataset],
                                  [Series(p, tuple(int(v.get(p, 0)) for _, v in per_dataset)) for p in CHART_PARTS],
                                  "Value per dataset (ucom): paid, returned to contributors, extracted")
    if len(xs) > 1 and any(any(v) for v in history.values()):
        charts["time"] = lines(xs, [Series(p, tuple(history[p])) for p in CHART_PARTS],
                               "Federation value over time (ucom)")
    return {"status": status, "validators": validators, "members": (members or {}).get("members", []),
            "anchors": (anchors or {}).get("trust_anchors", []), "listings": listings,
            "proposals": sorted(proposals or [], key=lambda p: -int(p["id"])), "blocks": recent,
            "stakes": (delegations or {}).get("delegations", []), "charts": charts}
