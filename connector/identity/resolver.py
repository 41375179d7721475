"""DID resolution: did:key offline, did:web over HTTP with the guards a public service needs.

A did:web is an attacker-chosen URL, so fetching it follows the outbound address policy
(`addresses.py`: public addresses only, loopback and private ranges when the node allows
them, the connection pinned to the checked address). Bodies are capped while streaming, the
whole fetch has a deadline, redirects are not followed (they would bypass the address check),
a document must have the shape DID Core gives it, and documents are cached.

Whoever presents a DID learns only that it could not be resolved: the same sentence whether
the host is unknown or refused, the port closed or open, the answer slow, large or invalid
(a caller could otherwise map the node's network through it). What went wrong is logged and
kept as the error's `detail`, for the operator.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

import aiohttp

from connector import strictjson
from connector.errors import ConnectorError, Reason
from connector.identity.addresses import AddressPolicy, AddressRefused
from connector.identity.did import did_key_document, public_jwk_of_method, url_from_did_web
from connector.identity.verification import did_of

log = logging.getLogger("communs.identity")
_JSON_TYPES = {"application/json", "application/did+json", "application/did+ld+json",
               "application/ld+json"}
_RELATIONSHIPS = {"authentication", "assertionMethod", "keyAgreement",
                  "capabilityInvocation", "capabilityDelegation"}


def _fail(message: str) -> ConnectorError:
    return ConnectorError(Reason.DID_RESOLUTION, message)


class DidResolutionError(ConnectorError):
    """A did:web whose document could not be fetched or is not valid: one sentence for
    everyone, what happened in `detail`."""

    def __init__(self, did: str, detail: str) -> None:
        super().__init__(Reason.DID_RESOLUTION, f"no valid DID document could be fetched for {did}")
        self.detail = detail


def _shape_problem(document: Any) -> str | None:
    """Why DOCUMENT is not a DID document this resolver can use (None: it is)."""
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        return "it is not a JSON object with an id"
    for key in ("verificationMethod", "service", *_RELATIONSHIPS):
        value = document.get(key, [])
        if not isinstance(value, list):
            return f"its {key} is not a list"
        kinds = (dict,) if key in ("verificationMethod", "service") else (dict, str)
        if not all(isinstance(item, kinds) for item in value):
            return f"its {key} holds entries of the wrong type"
    return None


class DidResolver:
    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        policy: AddressPolicy | None = None,
        allow_private: bool = False,
        timeout: float = 5.0,
        max_bytes: int = 64 * 1024,
        ttl: float = 300.0,
    ) -> None:
        """POLICY: where did:web documents may be fetched from (default: public addresses,
        and loopback, where local federations live; a node passes its own policy)."""
        self._session = session
        self.policy = policy or AddressPolicy(allow_private=allow_private, allow_loopback=True)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._pinned: dict[str, dict[str, Any]] = {}

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The outbound session it fetches with (None: one per fetch)."""
        return self._session

    @property
    def allow_private(self) -> bool:
        return self.policy.allow_private

    @allow_private.setter
    def allow_private(self, allowed: bool) -> None:
        self.policy = replace(self.policy, allow_private=allowed)

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
        try:
            document = await self._fetch(url)
            if document["id"] != did:
                raise ValueError(f"the document at {url} has id {document['id']!r}, not {did}")
        except ValueError as exc:
            log.info("cannot resolve %s: %s", did, exc)
            raise DidResolutionError(did, str(exc)) from None
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
        key = public_jwk_of_method(method)
        if not all(isinstance(value, str) for value in key.values()):
            raise _fail(f"the verification method {vm_id} has no supported public key")
        return key

    # --- did:web over HTTP ---------------------------------------------------------------------

    async def _fetch(self, url: str) -> dict[str, Any]:
        """The DID document at URL; ValueError saying what is wrong with it otherwise."""
        try:
            target = await self.policy.check(url)
            async with asyncio.timeout(self.timeout):
                body = await self._get(url, target.url, target.headers, target.server_hostname)
        except AddressRefused as exc:
            raise ValueError(str(exc)) from None
        except TimeoutError:
            raise ValueError(f"fetching {url} took longer than {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise ValueError(f"cannot fetch {url}: {exc.__class__.__name__} {exc}".strip()) from None
        try:  # nesting deep enough to exhaust the stack and lone surrogates are refused too
            document = strictjson.loads(body)
        except strictjson.BadJson as exc:
            raise ValueError(f"the DID document at {url} is not valid JSON: {exc}") from None
        if problem := _shape_problem(document):
            raise ValueError(f"the DID document at {url} is not valid: {problem}")
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
                    raise ValueError(f"fetching {url} answered HTTP {response.status}, not 200")
                if response.content_type not in _JSON_TYPES:
                    raise ValueError(
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

    def _too_large(self, url: str) -> ValueError:
        return ValueError(f"the DID document at {url} is larger than {self.max_bytes} bytes")
