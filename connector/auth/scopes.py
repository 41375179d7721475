"""DCP scopes: which of a holder's credentials a verifier may read.

`org.eclipse.dspace.dcp.vc.type:MembershipCredential` (by type) and
`org.eclipse.dspace.dcp.vc.id:<credential id>` (by id), with an optional `:read` access suffix
as EDC writes them (EDC's own `org.eclipse.edc.vc.type` alias is read as the DCP one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connector.errors import ConnectorError, Reason

TYPE_ALIAS = "org.eclipse.dspace.dcp.vc.type"
ID_ALIAS = "org.eclipse.dspace.dcp.vc.id"
_ALIASES = {TYPE_ALIAS: TYPE_ALIAS, ID_ALIAS: ID_ALIAS, "org.eclipse.edc.vc.type": TYPE_ALIAS,
            "org.eclipse.edc.vc.id": ID_ALIAS}
_ACCESS = ("read", "*")


@dataclass(frozen=True)
class Scope:
    alias: str  # TYPE_ALIAS or ID_ALIAS
    value: str  # a credential type name, or a credential id

    def __str__(self) -> str:
        return f"{self.alias}:{self.value}:read"


def type_scope(credential_type: str) -> str:
    return str(Scope(TYPE_ALIAS, credential_type))


MEMBERSHIP = type_scope("MembershipCredential")
DEFAULT_SCOPES = (MEMBERSHIP,)


def parse_scope(text: str) -> Scope:
    alias, _, rest = text.partition(":")
    if alias not in _ALIASES or not rest or len(text) > 512:
        raise ConnectorError(Reason.BAD_INPUT, f"the scope {text[:80]!r} is not a DCP vc.type or vc.id scope")
    head, _, access = rest.rpartition(":")
    if head and access in _ACCESS:
        rest = head  # ids may contain ':' (urn:uuid:...), so only a known access suffix is cut
    if _ALIASES[alias] == TYPE_ALIAS and (not rest.replace("-", "_").isidentifier()):
        raise ConnectorError(Reason.BAD_INPUT, f"the scope {text[:80]!r} does not name a credential type")
    return Scope(_ALIASES[alias], rest)


def parse_scopes(texts: Iterable[str]) -> frozenset[Scope]:
    return frozenset(parse_scope(t) for t in texts)
