"""When a node first sees a registry member, it checks the self-description served at the
member's endpoint: SHACL-valid, signed by the member's DID, and with the digest of its claims
that the registry holds. A mismatch is logged and kept in a report (GET /api/v1/ledger/members
shows it): evidence for a proposal to suspend the member."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from connector.crawler.fetch import FetchFailed, fetch
from connector.identity.addresses import AddressPolicy, AddressRefused
from connector.identity.verification import id_of
from connector.selfdescription.digest import claims_digest
from connector.selfdescription.parse import ParseProblem, parse
from connector.selfdescription.validate import validate_self_description

log = logging.getLogger("communs.ledger")
MAX_BYTES = 2 * 1024 * 1024
TIMEOUT = 10.0


@dataclass(frozen=True)
class MemberCheck:
    did: str
    endpoint: str
    checked_at: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"did": self.did, "endpoint": self.endpoint, "checkedAt": self.checked_at,
                "ok": self.ok, "problems": list(self.problems)}


async def check_member(session: aiohttp.ClientSession, resolver: Any, policy: AddressPolicy,
                       record: dict[str, Any]) -> MemberCheck:
    """RECORD: the registry's member record (did, endpoint, sd_hash). The endpoint is reached
    only where POLICY lets the node connect (a registry entry is not a way into its network)."""
    did, endpoint = record["did"], record["endpoint"].rstrip("/")
    problems: list[str] = []
    try:
        url = f"{endpoint}/self-description"
        target = await policy.check(url)
        # plain http goes to the address checked; https keeps its name for TLS to verify
        where, host = (target.url, target.headers) if url.startswith("http:") else (url, {})
        page = await fetch(session, where, limit=MAX_BYTES, timeout=TIMEOUT,
                           headers={**host, "Accept": "application/vp+jwt"})
        report = await validate_self_description(page.body, resolver)
        problems += [f"[{p.check}] {p.message}" for p in report.problems
                     if p.severity == "Violation"]
        parsed = parse(page.body)
        if {id_of(c.document.get("issuer")) for c in parsed.credentials} - {did}:
            problems.append(f"[issuer] its credentials are not all issued by {did}")
        digest = claims_digest(c.document for c in parsed.credentials)
        if digest != record["sd_hash"]:
            problems.append(f"[registry] the digest of its claims ({digest[:16]}...) is not the "
                            f"registry's ({record['sd_hash'][:16]}...)")
    except AddressRefused as exc:
        problems.append(f"[address] {exc}")
    except FetchFailed as exc:
        problems.append(f"[fetch] {exc}")
    except ParseProblem as exc:
        problems.append(f"[{exc.check}] {exc}")
    found = MemberCheck(did, endpoint, datetime.now(UTC).isoformat(), tuple(sorted(set(problems))))
    if found.problems:
        log.warning("registry member %s serves a self-description that does not match: %s",
                    did, "; ".join(found.problems))
    return found
