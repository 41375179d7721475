"""The caller side: DSP requests carrying our self-issued ID token.

Each request gets a fresh ID token (its jti is single-use) wrapping a fresh access token that
lets that provider, and only it, read the scoped credentials from our credential service.
Provider-to-consumer callbacks use the same helper with the roles swapped.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from connector.auth.credential_service import issue_access_token
from connector.auth.scopes import DEFAULT_SCOPES
from connector.auth.tokens import issue_id_token
from connector.identity.did import Signer, did_web_from_url


def authorization(
    signer: Signer, audience_did: str, scopes: Collection[str] = DEFAULT_SCOPES,
    now: datetime | None = None,
) -> str:
    """The Authorization header value for one request to `audience_did`."""
    access = issue_access_token(signer, audience_did, scopes, now=now)
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
