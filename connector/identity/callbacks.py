"""Addresses a counterparty gives the node to send to: its `callbackAddress`, the endpoint of
a PUSH transfer, the data address of a PULL one.

Each must pass the node's outbound address policy (`addresses.py`). A callback must also be
the caller's own: the origin of a service endpoint in its DID document (a communs node lists
its DSP endpoint there), or an origin the operator allows for any caller
(`[security] callback_origins`, for peers whose DID document lists no service, like did:key).
Otherwise anyone could have the node send its signed messages wherever it likes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.errors import ConnectorError
from connector.identity.addresses import (
    AddressPolicy,
    AddressRefused,
    Target,
    origin,
    syntax_problem,
)
from connector.identity.resolver import DidResolver


def service_endpoints(document: dict[str, Any]) -> list[str]:
    """The service endpoints a DID document lists (strings, lists or maps of them)."""
    found: list[str] = []
    services = document.get("service")
    for service in services if isinstance(services, list) else []:
        endpoint = service.get("serviceEndpoint") if isinstance(service, dict) else None
        values = endpoint.values() if isinstance(endpoint, dict) else (
            endpoint if isinstance(endpoint, list) else [endpoint])
        found += [v for v in values if isinstance(v, str)]
    return found


@dataclass(frozen=True)
class Callbacks:
    resolver: DidResolver  # the callers' DID documents (cached since they authenticated)
    policy: AddressPolicy | None = None  # None: the resolver's
    origins: frozenset[str] = frozenset()  # allowed as any caller's callback

    async def target(self, url: Any) -> Target:
        """Where to connect for URL (a counterparty's address); AddressRefused if nowhere."""
        return await (self.policy or self.resolver.policy).check(url)

    async def callback(self, url: Any, did: str) -> None:
        """AddressRefused unless URL may be where the caller DID is called back."""
        await self.target(url)
        theirs = origin(url)
        if theirs in {origin(o) for o in self.origins}:
            return
        try:
            document = await self.resolver.resolve(did)
        except ConnectorError:
            document = {}
        endpoints = [e for e in service_endpoints(document) if syntax_problem(e) is None]
        if theirs not in {origin(e) for e in endpoints}:
            raise AddressRefused(
                f"the callback {theirs} is not an endpoint of {did}: it must share its origin "
                "with a service of the caller's DID document, or be allowed by the operator"
            )
