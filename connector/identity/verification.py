"""The result of verifying a credential or presentation: a value, not an exception.

A failed verification is an ordinary outcome (a forged or expired credential is input, not a
bug), so callers get every problem found as readable sentences and decide what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# clocks of issuers and verifiers drift; this much is tolerated on "not before" checks
CLOCK_SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class Verification:
    ok: bool
    problems: tuple[str, ...]
    document: dict[str, Any] | None
    issuer: str | None

    @classmethod
    def of(
        cls, problems: Iterable[str], document: dict[str, Any] | None, issuer: str | None
    ) -> Verification:
        found = tuple(problems)
        return cls(not found, found, document, issuer)

    @classmethod
    def failed(cls, problem: str, document: dict[str, Any] | None = None) -> Verification:
        return cls(False, (problem,), document, None)


def utcnow() -> datetime:
    return datetime.now(UTC)


def xsd_now(now: datetime | None = None) -> str:
    """An xsd:dateTime in UTC, to the second (what issuers write)."""
    return (now or utcnow()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: Any) -> datetime | None:
    """An xsd:dateTime string as an aware datetime (naive means UTC); None if unparsable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def id_of(value: Any) -> str | None:
    """`issuer`/`holder` may be a string or an object with an `id`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def did_of(did_url: str) -> str:
    return did_url.split("#", 1)[0].split("?", 1)[0]


def is_presentation(doc: dict[str, Any]) -> bool:
    types = doc.get("type", [])
    return "VerifiablePresentation" in (types if isinstance(types, list) else [types])


def validity_problems(doc: dict[str, Any], now: datetime | None = None) -> list[str]:
    """Date checks of VC 1.1 (issuanceDate, expirationDate) and 2.0 (validFrom, validUntil)."""
    now = now or utcnow()
    what = "presentation" if is_presentation(doc) else "credential"
    problems: list[str] = []
    for field in ("issuanceDate", "validFrom"):
        if field not in doc:
            continue
        start = parse_datetime(doc[field])
        if start is None:
            problems.append(f"the {what}'s {field} {doc[field]!r} is not a valid date-time")
        elif start > now + CLOCK_SKEW:
            problems.append(f"the {what} is not valid before {doc[field]}")
    for field in ("expirationDate", "validUntil"):
        if field not in doc:
            continue
        end = parse_datetime(doc[field])
        if end is None:
            problems.append(f"the {what}'s {field} {doc[field]!r} is not a valid date-time")
        elif end <= now:
            problems.append(f"the {what} expired at {doc[field]}")
    return problems
