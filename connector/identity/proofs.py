"""Verifiable presentations secured with Linked-Data proofs (VC Data Model 1.1 style).

A presentation proves that its holder controls a key right now: it is signed for the purpose
`authentication`, bound to the verifier's `challenge` (no replay) and `domain` (no forwarding
to another verifier). Each embedded credential is verified on its own: LD-proof credentials,
and JWT credentials carried as `EnvelopedVerifiableCredential`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connector.identity.did import Signer
from connector.identity.jose import embedded_problems, envelope
from connector.identity.ldp import issue_ldp, verify_ldp
from connector.identity.resolver import DidResolver
from connector.identity.verification import Verification, is_presentation, utcnow

__all__ = ["issue_ldp", "verify_ldp", "issue_presentation", "verify_presentation"]

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"


def issue_presentation(
    credentials: Sequence[dict[str, Any] | str],
    signer: Signer,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    suite: str = "Ed25519Signature2020",
    created: datetime | None = None,
) -> dict[str, Any]:
    """A VP held by the signer. JWT credentials (strings) are enveloped, which needs the VC 2.0
    context (the 1.1 context has no term for an envelope), as do VC 2.0 credentials; otherwise
    the 1.1 context is used."""
    items = [envelope(c) if isinstance(c, str) else c for c in credentials]
    # VC 2.0 credentials (and envelopes) need a VC 2.0 presentation: the contexts conflict
    modern = any(isinstance(c, str) or VC_V2 in _contexts(c.get("@context")) for c in credentials)
    presentation: dict[str, Any] = {
        "@context": [VC_V2 if modern else VC_V1],
        "type": ["VerifiablePresentation"],
        "holder": signer.did,
    }
    if items:
        presentation["verifiableCredential"] = items
    return issue_ldp(presentation, signer, suite=suite, purpose="authentication",
                     challenge=challenge, domain=domain, created=created)


def _contexts(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


async def verify_presentation(
    presentation: dict[str, Any],
    resolver: DidResolver,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
) -> Verification:
    """The VP proof (authentication, challenge, domain, holder binding) and every credential."""
    if not isinstance(presentation, dict) or not is_presentation(presentation):
        return Verification.failed("the document is not a VerifiablePresentation")
    now = now or utcnow()
    outer = await verify_ldp(presentation, resolver, purpose="authentication",
                             challenge=challenge, domain=domain, now=now)
    inner = await embedded_problems(presentation.get("verifiableCredential"), resolver, now)
    return Verification.of(outer.problems + tuple(inner), presentation, outer.issuer)
