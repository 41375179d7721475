"""DID resolution: did:key offline, did:web over HTTP with the guards a public service needs.

A did:web is an attacker-chosen URL, so fetching it is an SSRF vector: the host is resolved
first and private/link-local addresses are refused (loopback stays allowed: dev and test
nodes live on 127.0.0.1). Bodies are capped while streaming, the whole fetch has a deadline,
redirects are not followed (they would bypass the address check), the connection goes to the
address that was checked (no second DNS answer), and documents are cached.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from connector.errors import ConnectorError, Reason
from connector.identity.did import did_key_document, public_jwk_of_method, url_from_did_web
from connector.identity.verification import did_of

_JSON_TYPES = {"application/json", "application/did+json", "application/did+ld+json",
               "application/ld+json"}
_RELATIONSHIPS = {"authentication", "assertionMethod", "keyAgreement",
                  "capabilityInvocation", "capabilityDelegation"}


def _fail(message: str) -> ConnectorError:
    return ConnectorError(Reason.DID_RESOLUTION, message)


def _forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return False
    return (ip.is_private or ip.is_link_local or ip.is_unspecified or ip.is_multicast
            or ip.is_reserved or not ip.is_global)


class DidResolver:
    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        allow_private: bool = False,
        timeout: float = 5.0,
        max_bytes: int = 64 * 1024,
        ttl: float = 300.0,
    ) -> None:
        self._session = session
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._pinned: dict[str, dict[str, Any]] = {}

    def pin(self, document: dict[str, Any]) -> None:
        """Answer for this DID from memory, forever: a node's own DID, whose keys it holds,
        must resolve even before (or without) its HTTP server answering."""
        self._pinned[document["id"]] = document

    async def resolve(self, did: str) -> dict[str, Any]:
        did = did_of(did)
        if did.startswith("did:key:"):
            return did_key_document(did)
        if not did.startswith("did:web:"):
            method = did.split(":")[1] if did.count(":") >= 2 else did
            raise _fail(f"the DID method {method!r} is not supported (did:web and did:key are)")
        if did in self._pinned:
            return self._pinned[did]
        cached = self._cache.get(did)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        url = url_from_did_web(did)
        document = await self._fetch(url)
        if document.get("id") != did:
            raise _fail(f"the DID document at {url} has id {document.get('id')!r}, not {did}")
        self._cache[did] = (time.monotonic() + self.ttl, document)
        return document

    def forget(self, did: str | None = None) -> None:
        """Drop a cached document (all of them without argument), e.g. after a key rotation."""
        if did is None:
            self._cache.clear()
        else:
            self._cache.pop(did_of(did), None)

    async def verification_key(self, vm_id: str, purpose: str) -> dict[str, Any]:
        """The public JWK of that method, if its DID lists it under the `purpose` relationship."""
        if purpose not in _RELATIONSHIPS:
            raise ConnectorError(Reason.BAD_INPUT, f"unknown verification relationship {purpose!r}")
        if "#" not in vm_id:
            raise _fail(f"the verification method {vm_id!r} is not a DID URL with a fragment")
        did = did_of(vm_id)
        document = await self.resolve(did)

        def absolute(ref: Any) -> str | None:
            ref = ref.get("id") if isinstance(ref, dict) else ref
            if not isinstance(ref, str):
                return None
            return did + ref if ref.startswith("#") else ref

        methods = [m for m in document.get("verificationMethod", []) if isinstance(m, dict)]
        related = document.get(purpose, [])
        related = related if isinstance(related, list) else [related]
        methods += [m for m in related if isinstance(m, dict)]  # embedded methods count too
        method = next((m for m in methods if absolute(m) == vm_id), None)
        if method is None:
            raise _fail(f"the DID document of {did} has no verification method {vm_id}")
        if not any(absolute(ref) == vm_id for ref in related):
            fragment = "#" + vm_id.split("#", 1)[1]
            raise ConnectorError(
                Reason.INVALID_CREDENTIAL, f"the key {fragment} is not an {purpose} of {did}"
            )
        return public_jwk_of_method(method)

    # --- did:web over HTTP ---------------------------------------------------------------------

    async def checked_target(self, url: str) -> tuple[str, dict[str, str], str | None]:
        """The URL to connect to, with the host replaced by an address that was checked.

        Connecting to the checked address (not resolving the name again) closes the DNS
        rebinding gap; the Host header and the TLS server name keep the original host, so
        virtual hosting and certificate checks work as usual."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, parts.port, type=socket.SOCK_STREAM)
            except OSError:
                raise _fail(f"the host {host} of the did:web cannot be resolved") from None
            found = list(dict.fromkeys(str(info[4][0]) for info in infos))
            addresses = sorted(found, key=lambda a: ":" in a)  # IPv4 first, else stable
        if not addresses:
            raise _fail(f"the host {host} of the did:web cannot be resolved")
        if not self.allow_private:
            for address in addresses:
                if _forbidden_address(address):
                    raise _fail(
                        f"the host {host} resolves to the non-public address {address}; "
                        "did:web documents are only fetched from public addresses"
                    )
        if addresses == [host]:
            return url, {}, None
        address = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
        netloc = f"{address}:{parts.port}" if parts.port else address
        pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        return pinned, {"Host": parts.netloc}, host if parts.scheme == "https" else None

    async def _fetch(self, url: str) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._get(url, *await self.checked_target(url))
        except TimeoutError:
            raise _fail(f"fetching {url} took longer than {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise _fail(f"cannot fetch {url}: {exc.__class__.__name__} {exc}".strip()) from None
        try:
            document = json.loads(body)
        except ValueError:
            raise _fail(f"the DID document at {url} is not valid JSON") from None
        if not isinstance(document, dict):
            raise _fail(f"the DID document at {url} is not a JSON object")
        return document

    async def _get(
        self, url: str, target: str, headers: dict[str, str], server_name: str | None
    ) -> bytes:
        owned = self._session is None
        session = self._session or aiohttp.ClientSession()
        try:
            async with session.get(
                target,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"Accept": "application/did+json, application/json", **headers},
                server_hostname=server_name,
            ) as response:
                if response.status != 200:
                    raise _fail(f"fetching {url} answered HTTP {response.status}, not 200")
                if response.content_type not in _JSON_TYPES:
                    raise _fail(
                        f"the DID document at {url} has content type "
                        f"{response.content_type!r}, not JSON"
                    )
                if (response.content_length or 0) > self.max_bytes:
                    raise self._too_large(url)
                body = bytearray()
                async for chunk in response.content.iter_chunked(8192):
                    body += chunk
                    if len(body) > self.max_bytes:  # stop reading at once: no memory blow-up
                        raise self._too_large(url)
                return bytes(body)
        finally:
            if owned:
                await session.close()

    def _too_large(self, url: str) -> ConnectorError:
        return _fail(f"the DID document at {url} is larger than {self.max_bytes} bytes")
