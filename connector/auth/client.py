"""The caller side: DSP requests carrying our self-issued ID token.

Each request gets a fresh ID token (its jti is single-use) wrapping an access token that lets
that provider, and only it, read the scoped credentials from our credential service.
Provider-to-consumer callbacks use the same helper with the roles swapped.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from connector import strictjson
from connector.answers import sentence
from connector.auth.credential_service import ACCESS_TOKEN_TTL, issue_access_token
from connector.auth.scopes import DEFAULT_SCOPES
from connector.auth.tokens import issue_id_token
from connector.identity.did import Signer, did_web_from_url
from connector.identity.verification import utcnow

# An access token is a grant the audience uses only when it fetches our presentation (about
# once a minute per verifier), so one is reused for a while rather than signed per request;
# each request still gets its own single-use ID token.
GRANT_REUSE = ACCESS_TOKEN_TTL / 2
MAX_ANSWER = 1024 * 1024  # what a counterparty's answer to a DSP message may weigh
_grants: dict[tuple[str, str, tuple[str, ...]], tuple[Signer, datetime, str]] = {}


def _grant(signer: Signer, audience_did: str, scopes: Collection[str], now: datetime) -> str:
    key = (signer.verification_method, audience_did, tuple(scopes))
    known = _grants.get(key)
    if known and known[0] is signer and known[1] <= now < known[1] + GRANT_REUSE:
        return known[2]
    if len(_grants) >= 1000:
        _grants.clear()
    token = issue_access_token(signer, audience_did, scopes, now=now)
    _grants[key] = (signer, now, token)
    return token


def authorization(
    signer: Signer, audience_did: str, scopes: Collection[str] = DEFAULT_SCOPES,
    now: datetime | None = None,
) -> str:
    """The Authorization header value for one request to `audience_did`."""
    now = now or utcnow()
    access = _grant(signer, audience_did, scopes, now)
    return issue_id_token(signer, audience_did, access_token=access, now=now)


def did_of_endpoint(url: str) -> str:
    """The did:web of the node serving `url` (communs nodes derive theirs from their origin)."""
    parts = urlsplit(url)
    return did_web_from_url(f"{parts.scheme}://{parts.netloc}")


def dsp_request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    signer: Signer,
    audience_did: str | None = None,
    scopes: Collection[str] = DEFAULT_SCOPES,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> Any:
    """`session.request` with our ID token added; use as `async with dsp_request(...) as r`.

    `audience_did` defaults to the did:web of the URL's origin."""
    audience = audience_did or did_of_endpoint(url)
    merged = {**(headers or {}), "Authorization": authorization(signer, audience, scopes)}
    options.setdefault("allow_redirects", False)  # a redirect would carry our token elsewhere
    return session.request(method, url, headers=merged, **options)


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body of another party's answer; ValueError once it passes `limit` bytes (reading
    stops there: a hostile answer is never held whole)."""
    if (response.content_length or 0) > limit:
        raise ValueError(f"the answer is larger than {limit} bytes")
    body = bytearray()
    async for chunk in response.content.iter_chunked(16384):
        body += chunk
        if len(body) > limit:
            raise ValueError(f"the answer is larger than {limit} bytes")
    return bytes(body)


@dataclass(frozen=True)
class Delivery:
    """How a DSP message went: the answer's status (0: no answer), its JSON body (on 200 and
    201) and, when it failed, why."""

    status: int
    body: Any = None
    error: str = ""


async def deliver(session: aiohttp.ClientSession, url: str, message: dict[str, Any], *,
                  signer: Signer, audience_did: str | None) -> Delivery:
    """POST a DSP MESSAGE with our ID token; network failures and answers that are not JSON we
    accept (too large, nested too deep...) are a Delivery too."""
    try:
        async with dsp_request(session, "POST", url, signer=signer, audience_did=audience_did,
                               json=message) as response:
            body = await read_capped(response, MAX_ANSWER)
            if response.status in (200, 201):
                return Delivery(response.status, strictjson.loads(body) if body.strip() else None)
            error = "" if response.status < 300 else f"{response.status}: {sentence(response.status, body)}"
            return Delivery(response.status, error=error)
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        return Delivery(0, error=f"{type(exc).__name__}: {exc}")
