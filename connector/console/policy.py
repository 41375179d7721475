"""The policy a console form chose: a template (open, members, pay-per-use, compute-only) or an
ODRL document written by hand, turned into what CatalogService.publish/update take."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from connector import strictjson
from connector.errors import ConnectorError, Reason
from policies.errors import PolicyError
from policies.parse import parse_policy
from policies.serialize import to_jsonld
from policies.templates import compute_offer, pay_per_use_offer

TEMPLATES = {
    "open": "Open: anyone may use it",
    "members": "Members: holders of a membership credential from a trusted issuer",
    "pay-per-use": "Pay per use: each use is paid first",
    "compute-only": "Compute only: algorithms run here, only results leave",
    "odrl": "An ODRL policy written by hand",
}
MAX_POLICY_CHARS = 64 * 1024


def choice(form: Mapping[str, Any], did: str) -> str | dict[str, Any]:
    """What the form's fields `policy`, `price`, `manual_release` and `odrl` ask for."""
    name = str(form.get("policy") or "open")
    if name in ("open", "members"):
        return name
    uid = f"urn:uuid:{uuid.uuid4()}"
    if name == "pay-per-use":
        try:
            price = Decimal(str(form.get("price") or "").strip())
        except InvalidOperation:
            raise ConnectorError(Reason.BAD_INPUT, "the price per use must be a number, such as 2.50") from None
        if not price.is_finite() or price <= 0:
            raise ConnectorError(Reason.BAD_INPUT, "the price per use must be above zero")
        return to_jsonld(pay_per_use_offer(uid, did, price))
    if name == "compute-only":
        return to_jsonld(compute_offer(uid, did, manual_release=bool(form.get("manual_release"))))
    if name == "odrl":
        return document(str(form.get("odrl") or ""))
    raise ConnectorError(Reason.BAD_INPUT, f"there is no policy template {name[:40]!r}: choose one from the list")


def document(text: str) -> dict[str, Any]:
    """An ODRL policy written as JSON-LD, checked as the catalog will check it."""
    if not text.strip():
        raise ConnectorError(Reason.BAD_INPUT, "write the ODRL policy as a JSON-LD object")
    if len(text) > MAX_POLICY_CHARS:
        raise ConnectorError(Reason.TOO_LARGE, f"the policy is above {MAX_POLICY_CHARS} characters")
    try:
        value = strictjson.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"the policy is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConnectorError(Reason.BAD_INPUT, "the policy must be a JSON object")
    try:
        parse_policy(value)
    except PolicyError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"the policy is not a usable ODRL policy: {exc}") from None
    return value


def describe(offer: Mapping[str, Any]) -> str:
    """A policy in a few words, for the dataset lists."""
    permissions = offer.get("permission") or []
    permissions = permissions if isinstance(permissions, list) else [permissions]
    duties = offer.get("obligation") or []
    text = str(offer)
    if "compensate" in text or duties:
        return "pay per use"
    if any(isinstance(p, dict) and "compute" in str(p.get("action")) for p in permissions):
        return "compute only"
    if "Membership" in text or "membership" in text:
        return "members"
    if permissions and all(isinstance(p, dict) and not p.get("constraint") for p in permissions):
        return "open"
    return "custom ODRL"
