"""Fetching, verifying and caching status list credentials for the credentials we verify.

A status list URL is chosen by a credential's issuer, so it is fetched like a did:web: through
the node's outbound address policy (the connection pinned to the checked address), without
redirects, with a deadline and a size cap. The list must verify (its proof or JWT) and be
issued by the credential's own issuer: anyone else's list says nothing about the credential.
Lists are cached by URL for a short time, never past their own validity, so a revocation
takes effect within `ttl` seconds. A list that cannot be fetched or read refuses the
credential: a status that cannot be checked is not a good status.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

import aiohttp

from connector.identity.addresses import AddressPolicy, AddressRefused
from connector.identity.resolver import DidResolver
from connector.identity.status import StatusEntry, StatusError, bit, entries, list_bits
from connector.identity.verification import id_of, is_presentation, parse_datetime, utcnow

log = logging.getLogger("communs.identity")
_ACCEPT = "application/vc+jwt, application/vc+ld+json, application/vc, application/ld+json, application/json"


class StatusLists:
    def __init__(self, resolver: DidResolver, session: aiohttp.ClientSession | None = None, *,
                 policy: AddressPolicy | None = None, timeout: float = 5.0,
                 max_bytes: int = 2 * 1024 * 1024, ttl: float = 60.0, max_cached: int = 1000) -> None:
        self.resolver = resolver
        self.session = session or resolver.session
        self.policy = policy or resolver.policy
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.max_cached = max_cached
        self._cache: dict[str, tuple[float, str | None, bytes | dict[str, Any]]] = {}

    async def problems(self, credential: dict[str, Any], now: datetime | None = None) -> list[str]:
        """Why CREDENTIAL is not in good standing by its status lists (empty: it is, or it
        names no status)."""
        now = now or utcnow()
        try:
            found = entries(credential)
        except StatusError as exc:
            return [str(exc)]
        issuer = id_of(credential.get("issuer"))
        problems = []
        for entry in found:
            try:
                if bit(await self._bits(entry, issuer, now), entry.index):
                    state = "revoked" if entry.purpose == "revocation" else "suspended"
                    problems.append(f"the credential was {state} by its issuer "
                                    f"(status list {entry.list_url}, entry {entry.index})")
            except StatusError as exc:
                problems.append(str(exc))
        return problems

    def forget(self, url: str | None = None) -> None:
        if url is None:
            self._cache.clear()
        else:
            self._cache.pop(url, None)

    async def _bits(self, entry: StatusEntry, issuer: str | None, now: datetime) -> bytes:
        cached = self._cache.get(entry.list_url)
        if cached is None or cached[0] <= time.monotonic():
            document = await self._verified(entry.list_url, now)
            self._remember(entry.list_url, document, now)
            cached = self._cache[entry.list_url]
        list_issuer, document = cached[1], cached[2]
        if list_issuer != issuer:
            raise StatusError(f"the status list at {entry.list_url} is issued by {list_issuer}, "
                              f"not by the credential's issuer {issuer}")
        assert isinstance(document, dict)
        return list_bits(entry, document)

    def _remember(self, url: str, document: dict[str, Any], now: datetime) -> None:
        ttl = self.ttl
        for field in ("validUntil", "expirationDate"):
            end = parse_datetime(document.get(field))
            if end is not None:
                ttl = min(ttl, (end - now).total_seconds())
        if len(self._cache) >= self.max_cached:
            self._cache.clear()
        # kept even with ttl <= 0 for this one use; the next call fetches again
        self._cache[url] = (time.monotonic() + max(ttl, 0), id_of(document.get("issuer")), document)

    async def _verified(self, url: str, now: datetime) -> dict[str, Any]:
        from connector.identity.service import verify_credential_file  # service imports much

        body = await self._fetch(url)
        result = await verify_credential_file(body, self.resolver, now=now)
        if not result.ok or result.document is None or is_presentation(result.document):
            why = result.problems[0] if result.problems else "it is a presentation"
            raise StatusError(f"the status list at {url} does not verify: {why}")
        return result.document

    async def _fetch(self, url: str) -> bytes:
        unusable = StatusError(f"the status list at {url} could not be fetched")
        try:
            target = await self.policy.check(url)
            async with asyncio.timeout(self.timeout):
                return await self._get(target.url, target.headers, target.server_hostname)
        except AddressRefused as exc:
            log.info("status list %s refused: %s", url, exc)
            raise StatusError(f"the status list at {url} is not at an address this node may reach") from None
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            log.info("status list %s unusable: %s %s", url, exc.__class__.__name__, exc)
            raise unusable from None

    async def _get(self, url: str, headers: dict[str, str], server_name: str | None) -> bytes:
        owned = self.session is None
        session = self.session or aiohttp.ClientSession()
        try:
            async with session.get(url, headers={"Accept": _ACCEPT, **headers}, allow_redirects=False,
                                   server_hostname=server_name,
                                   timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                body = bytearray()
                async for chunk in response.content.iter_chunked(16384):
                    body += chunk
                    if len(body) > self.max_bytes:  # stop at once: a hostile list is never held
                        raise ValueError(f"larger than {self.max_bytes} bytes")
                return bytes(body)
        finally:
            if owned:
                await session.close()
