"""Signed self-descriptions: the use case shared by `communs init`, the API and /self-description.

Loire 25.11 follows the VC 2.0 credential format of the 25.11 ICAM document: each credential
is a `vc+jwt` (VC-JOSE-COSE) and the presentation a `vp+jwt` whose credentials travel as
`EnvelopedVerifiableCredential`; this is what the Loire compliance service takes as input.
Signatures are ES256 with the node's P-256 key: the 25.11 compliance process accepts RSA or
EC keys only, so EdDSA would be refused there. Tagus 22.10 keeps its VC 1.1 JSON-LD form with
JsonWebSignature2020 proofs (same P-256 key), served on request for 22.10 verifiers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connector.identity.did import Signer
from connector.identity.jose import issue_vc_jwt, issue_vp_jwt
from connector.identity.proofs import issue_ldp, issue_presentation
from connector.identity.verification import utcnow
from connector.selfdescription import build
from connector.selfdescription.model import Framework, Participant

VP_JWT = "application/vp+jwt"
VP_LD = "application/vp+ld+json"


@dataclass(frozen=True)
class SelfDescription:
    framework: Framework
    credentials: dict[str, dict[str, Any]]  # unsigned JSON-LD, by role (build.ROLES)
    signed: dict[str, Any]  # by role: a vc+jwt (Loire) or a VC with a proof (Tagus)
    presentation: str | dict[str, Any]  # the vp+jwt (Loire) or the VP with a proof (Tagus)
    media_type: str
    issued: datetime = field(compare=False, default_factory=utcnow)

    def body(self) -> str | dict[str, Any]:
        """What /self-description serves."""
        return self.presentation


def build_self_description(
    participant: Participant,
    signer: Signer,
    *,
    framework: Framework = Framework.LOIRE,
    now: datetime | None = None,
    valid_for: timedelta = build.VALIDITY,
) -> SelfDescription:
    """The participant's credentials, signed by SIGNER (a key of the participant's DID)."""
    if signer.did != participant.did:
        raise ValueError(
            f"the signer's DID {signer.did} is not the participant's {participant.did}"
        )
    now = now or utcnow()
    if framework is Framework.TAGUS:
        creds = build.tagus_credentials(participant, now=now, valid_for=valid_for)
        signed_ld = {
            role: issue_ldp(vc, signer, suite="JsonWebSignature2020", created=now)
            for role, vc in creds.items()
        }
        vp = issue_presentation(
            [signed_ld[r] for r in build.ROLES], signer, suite="JsonWebSignature2020", created=now
        )
        return SelfDescription(framework, creds, dict(signed_ld), vp, VP_LD, now)
    creds = build.loire_credentials(participant, now=now, framework=framework, valid_for=valid_for)
    tokens = {role: issue_vc_jwt(vc, signer) for role, vc in creds.items()}
    presentation = build.loire_presentation(
        participant, [tokens[r] for r in build.ROLES], f"urn:uuid:{uuid.uuid4()}"
    )
    return SelfDescription(
        framework, creds, dict(tokens), issue_vp_jwt(presentation, signer), VP_JWT, now
    )
