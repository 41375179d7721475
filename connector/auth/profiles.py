"""The DCP 1.0 profiles this node speaks, as verifier and as holder.

A profile fixes the VC data model, the status (revocation) scheme and the proof format:
`vc20-bssl/jwt` is VC 2.0 secured as `vc+jwt` / `vp+jwt` with BitstringStatusList,
`vc11-sl2021/jwt` is VC 1.1 as VC-JWT (`vc` / `vp` claims) with StatusList2021. A credential's
profile is its issuer's choice; DCP asks that a presentation be homogeneous, so the holder
answers one presentation per profile among the credentials it selected.
"""

from __future__ import annotations

from typing import Any

from connector.credentials.model import Format, StoredCredential
from connector.errors import ConnectorError, Reason
from connector.identity.jose import decode_parts
from connector.identity.jwt11 import is_vc11

VC20 = "vc20-bssl/jwt"
VC11 = "vc11-sl2021/jwt"
SUPPORTED_PROFILES = (VC20, VC11)  # what /.well-known/dspace-version advertises under auth


def profile_of(credential: StoredCredential) -> str:
    """The profile whose presentation carries CREDENTIAL (LD-proof credentials ride along
    in the VC 2.0 one, as they always have)."""
    if credential.format is not Format.JWT:
        return VC20
    try:
        header, payload, _, _ = decode_parts(credential.document)
    except (ValueError, UnicodeDecodeError):
        return VC20
    return VC11 if is_vc11(header, payload) is False else VC20


def requested(query: dict[str, Any]) -> tuple[str, ...]:
    """The profiles a PresentationQueryMessage asks for: its optional `profile` (a term of the
    DCP context; a string or a list), else every profile."""
    asked = query.get("profile")
    if asked is None:
        return SUPPORTED_PROFILES
    names = [asked] if isinstance(asked, str) else asked
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ConnectorError(Reason.BAD_INPUT, "the query's profile must be a profile name or a list of them")
    unknown = [n for n in names if n not in SUPPORTED_PROFILES]
    if unknown:
        raise ConnectorError(Reason.BAD_INPUT, f"the profile {unknown[0][:60]!r} is not supported "
                             f"(supported: {', '.join(SUPPORTED_PROFILES)})")
    return tuple(n for n in SUPPORTED_PROFILES if n in names)
