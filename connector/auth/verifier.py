"""The verifier side: who is calling a DSP endpoint, proven by an ID token and a presentation.

1. the self-issued ID token is verified (for us, signed by a key of its iss) and its jti burnt;
2. the caller's credential service (a service of its DID document) is asked for the
   presentation, with our own ID token wrapping the access token the caller gave us;
3. the presentation and every credential in it must verify and be about the caller;
4. only credentials from trust anchors are kept: a caller with none is still authenticated;
   a kept credential that names a status list (revocation, suspension) must be in good
   standing there, or the caller is refused.

Verified presentations are cached per (caller, scopes) for a short time: a negotiation is a
burst of requests from one caller, and each then costs one ID token check and one jti write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp

from connector import strictjson
from connector.auth import schemas
from connector.auth.caller import Caller, credential_types
from connector.auth.client import read_capped
from connector.auth.credential_service import DCP_CONTEXT
from connector.auth.replay import ReplayGuard
from connector.auth.scopes import DEFAULT_SCOPES
from connector.auth.tokens import decode, issue_id_token, refuse, verify_id_token
from connector.errors import ConnectorError
from connector.identity.did import Signer, is_loopback_host
from connector.identity.jose import read_jwt, unenvelope, verify_jwt
from connector.identity.proofs import verify_presentation
from connector.identity.resolver import DidResolver
from connector.identity.statuslists import StatusLists
from connector.identity.verification import id_of, parse_datetime, utcnow

log = logging.getLogger("communs.auth")
_JSON = {"application/json", "application/ld+json"}


class TrustAnchors(Protocol):
    async def trusted(self, issuer: str, types: Iterable[str] = ()) -> bool: ...


class Registry(Protocol):
    """Membership by the ledger's registry (connector.ledger.service.LedgerService)."""

    issuer: str

    async def member_of(self, did: str) -> bool: ...


class StaticTrustAnchors:
    """Issuers named in a fixed list (tools and tests)."""

    def __init__(self, dids: Iterable[str]) -> None:
        self.dids = frozenset(dids)

    async def trusted(self, issuer: str, types: Iterable[str] = ()) -> bool:
        return issuer in self.dids


def bearer_of(authorization: str) -> str:
    """DSP leaves the scheme open (EDC sends the bare token), DCP says Bearer: accept both."""
    token = authorization.strip()
    return token[7:].strip() if token[:7].lower() == "bearer " else token


def credential_service_url(document: Mapping[str, Any]) -> str:
    services = document.get("service", [])
    for service in services if isinstance(services, list) else []:
        kinds = service.get("type") if isinstance(service, dict) else None
        kinds = kinds if isinstance(kinds, list) else [kinds]
        endpoint = service.get("serviceEndpoint") if isinstance(service, dict) else None
        if "CredentialService" in kinds and isinstance(endpoint, str):
            return endpoint
    raise refuse("the caller's DID document names no CredentialService")


class CallerVerifier:
    def __init__(
        self,
        signer: Signer,
        resolver: DidResolver,
        session: aiohttp.ClientSession,
        guard: ReplayGuard,
        anchors: TrustAnchors,
        *,
        scopes: Collection[str] = DEFAULT_SCOPES,
        cache_ttl: float = 60.0,
        timeout: float = 5.0,
        max_bytes: int = 512 * 1024,
        max_cached: int = 10_000,
        status: StatusLists | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.signer = signer
        self.resolver = resolver
        self.session = session
        self.guard = guard
        self.anchors = anchors
        self.scopes = tuple(sorted(scopes))
        self.cache_ttl = cache_ttl
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_cached = max_cached
        self.status = status  # None: credential status is not checked (tools and tests only)
        self.registry = registry  # None: no ledger, membership comes from credentials alone
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, tuple[dict[str, Any], ...]]] = {}

    @property
    def did(self) -> str:
        return self.signer.did

    async def authenticate(self, authorization: str, now: datetime | None = None) -> Caller:
        """The caller, with its verified credentials from trusted issuers; else UNAUTHORIZED."""
        now = now or utcnow()
        id_token = await verify_id_token(bearer_of(authorization), self.resolver, self.did, now)
        await self.guard.check(id_token.issuer, id_token.jti, id_token.expires_at, now)
        key = (id_token.issuer, self.scopes)
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            credentials = cached[1]
        else:
            assert id_token.access_token is not None
            credentials, valid_for = await self._fetch(id_token.issuer, id_token.access_token, now)
            self._remember(key, credentials, min(self.cache_ttl, valid_for))
        kept = [c for c in credentials
                if await self.anchors.trusted(id_of(c.get("issuer")) or "", credential_types(c))]
        registry = None
        if self.registry is not None and await self.registry.member_of(id_token.issuer):
            registry = self.registry.issuer
        return Caller(id_token.issuer, tuple(kept), registry)

    def forget(self, caller: str | None = None) -> None:
        if caller is None:
            self._cache.clear()
        for key in [k for k in self._cache if k[0] == caller]:
            del self._cache[key]

    def _remember(self, key: tuple[str, tuple[str, ...]], credentials: tuple[dict[str, Any], ...],
                  ttl: float) -> None:
        if ttl <= 0:
            return
        if len(self._cache) >= self.max_cached:
            now = time.monotonic()
            for stale in [k for k, (until, _) in self._cache.items() if until <= now]:
                del self._cache[stale]
            while len(self._cache) >= self.max_cached:  # still full: drop the oldest entries
                del self._cache[next(iter(self._cache))]
        self._cache[key] = (time.monotonic() + ttl, credentials)

    # --- asking the caller's credential service -------------------------------------------------

    async def _fetch(self, caller: str, access_token: str, now: datetime) -> tuple[tuple[dict[str, Any], ...], float]:
        try:
            document = await self.resolver.resolve(caller)
            url = credential_service_url(document).rstrip("/") + "/presentations/query"
            parts = urlsplit(url)
            if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(parts.hostname or "")):
                raise refuse("the caller's credential service is not an https URL")
            # the resolver's SSRF rules: public addresses only (unless configured), no rebinding
            target = await self.resolver.policy.check(url)
        except ConnectorError as exc:
            raise _unusable(caller, getattr(exc, "detail", None) or str(exc)) from None
        bearer = issue_id_token(self.signer, caller, access_token=access_token,
                                ttl=timedelta(minutes=1), now=now)
        query = {"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": list(self.scopes)}
        headers = {**target.headers, "Authorization": f"Bearer {bearer}", "Accept": "application/json"}
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._post(target.url, query, headers, target.server_hostname)
        except TimeoutError:
            raise _unusable(caller, f"no answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise _unusable(caller, f"unreachable ({exc.__class__.__name__})") from None
        try:
            message = strictjson.loads(body)
        except ValueError as exc:
            raise refuse(f"the caller's credential service answered something that is not JSON we accept: {exc}") from None
        problems = schemas.problems(schemas.RESPONSE, message)
        if problems:
            raise refuse("the caller's credential service answered an invalid message: " + problems[0])
        if not message["presentation"]:
            raise refuse("the caller's credential service answered no presentation")
        credentials: list[dict[str, Any]] = []
        valid_for = self.cache_ttl
        for presentation in message["presentation"][:10]:
            found, until = await self.verify_presentation(presentation, caller, now)
            credentials += found
            valid_for = min(valid_for, until)
        await self._check_status(credentials, now)
        return tuple(credentials), valid_for

    async def _check_status(self, credentials: list[dict[str, Any]], now: datetime) -> None:
        """A revoked or suspended credential from a trust anchor refuses the caller (one from
        anyone else is dropped anyway: its status is not worth a fetch)."""
        if self.status is None:
            return
        for credential in credentials:
            if "credentialStatus" not in credential:
                continue
            if not await self.anchors.trusted(id_of(credential.get("issuer")) or "",
                                              credential_types(credential)):
                continue
            problems = await self.status.problems(credential, now)
            if problems:
                raise refuse("a credential of the caller is not in good standing: " + problems[0])

    async def _post(self, url: str, query: dict[str, Any], headers: dict[str, str],
                    server_name: str | None) -> bytes:
        async with self.session.post(url, json=query, headers=headers, allow_redirects=False,
                                     server_hostname=server_name) as response:
            if response.status != 200 or response.content_type not in _JSON:
                raise _unusable(url, f"HTTP {response.status}, {response.content_type}")
            try:
                return await read_capped(response, self.max_bytes)
            except ValueError:
                raise refuse("the caller's presentation is too large") from None

    async def verify_presentation(self, presentation: Any, caller: str, now: datetime) -> tuple[list[dict[str, Any]], float]:
        """The credentials of one presentation, and for how many seconds it stays valid."""
        if isinstance(presentation, str):
            header, payload, _, _ = decode(presentation, self.max_bytes)
            read = read_jwt(header, payload)
            if isinstance(read, str) or not read[0]:
                raise refuse("the caller's presentation is neither a vp+jwt nor a VC-JWT 1.1 "
                             "presentation (DCP profiles vc20-bssl/jwt and vc11-sl2021/jwt)")
            vp, exp = read[2], payload.get("exp")
        else:
            vp, exp = presentation, None
        # every credential is parsed strictly before a verifier walks it (a JWT nested 100,000
        # deep would blow its stack), and only kept once the presentation verifies
        items = vp.get("verifiableCredential", [])
        credentials = [_credential(item, self.max_bytes) for item in (items if isinstance(items, list) else [items])]
        if isinstance(presentation, str):
            result = await verify_jwt(presentation, self.resolver, audience=self.did, now=now)
        else:
            result = await verify_presentation(presentation, self.resolver, domain=self.did, now=now)
        if not result.ok or result.document is None:
            raise refuse("the caller's presentation does not verify: " + (result.problems or ("",))[0])
        if result.issuer != caller or id_of(result.document.get("holder")) not in (None, caller):
            raise refuse("the presentation is not signed by the caller")
        for credential in credentials:
            subjects = credential.get("credentialSubject")
            subjects = subjects if isinstance(subjects, list) else [subjects]
            if not subjects or any(id_of(s) != caller for s in subjects):
                raise refuse("a credential in the presentation is about another subject than the caller")
        # cached no longer than the presentation or any credential in it stays valid
        ends = [exp] + [_end(c) for c in credentials]
        until = min([e - now.timestamp() for e in ends if isinstance(e, int | float)] + [self.cache_ttl])
        return credentials, until


def _unusable(where: str, cause: str) -> ConnectorError:
    """One refusal whatever kept the credential service from answering (not found, silent,
    closed, another kind of server): a caller names that service, so telling these apart would
    let it probe ports through us. The cause is for the operator's log."""
    log.info("no usable answer from a credential service (%s): %s", where, cause)
    return refuse("the caller's credential service gave no usable answer")


def _end(credential: dict[str, Any]) -> float | None:
    for field in ("validUntil", "expirationDate"):
        end = parse_datetime(credential.get(field))
        if end is not None:
            return end.timestamp()
    exp = credential.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def _credential(item: Any, limit: int) -> dict[str, Any]:
    """The credential itself (already verified with its presentation): a JWT's payload, or the
    LD document."""
    jwt = unenvelope(item)
    if jwt is not None:
        header, payload, _, _ = decode(jwt, limit)
        read = read_jwt(header, payload)  # a VC-JWT 1.1 carries the credential in its vc claim
        return payload if isinstance(read, str) else read[2]
    if isinstance(item, dict):
        return item
    raise refuse("the presentation holds something that is not a credential")
