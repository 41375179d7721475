"""The consumer side of the DSP catalog: discover a provider's DSP path, request its catalog
(DCP-authenticated when a signer is given) and follow the Link pages."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from connector import strictjson
from connector.answers import sentence
from connector.auth.client import authorization, did_of_endpoint
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer

DSP_VERSION = "2025-1"
DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
MAX_PAGES = 100  # a provider that pages forever must not keep the client forever
MAX_ERROR_BYTES = 64 * 1024  # of an error answer, read to say what it says
BASE_TTL = 60.0  # seconds a provider's DSP base is remembered: a negotiation is a burst of calls
_bases: dict[str, tuple[float, str]] = {}  # origin -> (until, DSP base)


async def _json(response: aiohttp.ClientResponse, what: str) -> Any:
    if response.status != 200:
        # what the provider's error says, in a sentence of ours: never its raw body
        said = sentence(response.status, await response.content.read(MAX_ERROR_BYTES))
        reason = Reason.UNAUTHORIZED if response.status == 401 else Reason.BAD_INPUT
        raise ConnectorError(reason, f"{what} answered {response.status}: {said}")
    try:
        return strictjson.loads(await response.read())
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, f"{what} did not answer JSON") from None


async def dsp_base(session: aiohttp.ClientSession, provider_url: str) -> str:
    """The provider's DSP 2025-1 base URL, from its /.well-known/dspace-version (remembered
    for BASE_TTL seconds)."""
    origin = provider_url.rstrip("/")
    known = _bases.get(origin)
    if known and known[0] > time.monotonic():
        return known[1]
    try:
        async with session.get(f"{origin}/.well-known/dspace-version", allow_redirects=False) as response:
            versions = await _json(response, origin)
    except aiohttp.ClientError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"cannot reach {origin}: {exc}") from None
    for entry in versions.get("protocolVersions", []) if isinstance(versions, dict) else []:
        if isinstance(entry, dict) and entry.get("version") == DSP_VERSION and isinstance(entry.get("path"), str):
            if len(_bases) >= 1000:
                _bases.clear()
            base = origin + "/" + entry["path"].strip("/")
            _bases[origin] = (time.monotonic() + BASE_TTL, base)
            return base
    raise ConnectorError(Reason.BAD_INPUT, f"{origin} does not speak the Dataspace Protocol {DSP_VERSION}")


async def fetch_catalog(
    session: aiohttp.ClientSession, provider_url: str, signer: Signer | None = None
) -> dict[str, Any]:
    """The provider's whole catalog as one DSP Catalog, pages merged in order."""
    url: str | None = f"{await dsp_base(session, provider_url)}/catalog/request"
    message = {"@context": [DSP_CONTEXT], "@type": "CatalogRequestMessage", "filter": []}
    catalog: dict[str, Any] | None = None
    datasets: list[Any] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        headers = {"Authorization": authorization(signer, did_of_endpoint(url))} if signer else {}
        try:
            async with session.post(url, json=message, headers=headers, allow_redirects=False) as response:
                page = await _json(response, url)
                url = response.links.get("next", {}).get("url")  # type: ignore[assignment]
        except aiohttp.ClientError as exc:
            raise ConnectorError(Reason.BAD_INPUT, f"cannot reach {url}: {exc}") from None
        found = page.get("dataset", []) if isinstance(page, dict) else []
        datasets.extend(found if isinstance(found, list) else [found])
        catalog = catalog or page
    if catalog is None:
        raise ConnectorError(Reason.BAD_INPUT, f"{provider_url} returned no catalog")
    return {**catalog, "dataset": datasets}
