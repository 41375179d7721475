"""A member's catalog read through its manifest (`{catalog}/manifest`: each dataset's IRI and a
hash of its content, for what this node may see): asked conditionally, an unchanged manifest
ends the read at once; otherwise only the datasets whose hash changed are fetched (a DSP
catalog request selecting them, or `/catalog?dataset=IRI...`), and the graph is patched with
what they add and remove (held.py). The whole catalog is read page by page the first time,
when many datasets changed, and from members that serve no manifest (sources.py then reads
the pages as before). The catalog's own description is refreshed with the whole reads; the
export pages' Hydra views (paging links and totals) are left out."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from connector.auth.client import authorization
from connector.crawler import rdf, sources
from connector.crawler.blanks import stable
from connector.crawler.fetch import Fetched, FetchFailed, conditional, fetch
from connector.crawler.graphs import SourceState
from connector.crawler.held import BASE, Held, split
from connector.crawler.members import MemberRecord
from connector.crawler.pieces import convert
from connector.crawler.sources import DSP_CONTEXT, Context, Outcome, _get_pages, now

CRAWL = "https://w3id.org/communs/crawl#"
HYDRA_VIEW = ox.NamedNode("http://www.w3.org/ns/hydra/core#view")
WHOLE_READ_SHARE = 0.25  # above this share of datasets changed, reading every page is cheaper
DSP_SELECTION_MAX = 1000  # datasets per selecting catalog request (the provider's cap)
DCAT_SELECTION_MAX = 100
URL_MAX = 6000  # characters of a selecting GET, under servers' request-line limits


class NoManifest(Exception):
    """The member serves no manifest: read its pages."""


def _listing(body: bytes) -> dict[str, str]:
    doc = rdf.json_value(body)
    rows = doc.get("datasets") if isinstance(doc, dict) else None
    if not isinstance(rows, list) or not all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r) for r in rows):
        raise rdf.RdfProblem("the manifest is not {\"datasets\": [[IRI, hash], ...]}")
    return dict(rows)


async def _manifest(ctx: Context, url: str, state: SourceState, audience: str | None) -> Fetched:
    headers = {"Accept": "application/json"} | conditional(*(state.validators.get(url) or [None, None]))
    if audience is not None and ctx.signer is not None:
        headers["Authorization"] = authorization(ctx.signer, audience)
    try:
        return await fetch(ctx.session, url, limit=ctx.config.max_page_bytes,
                           timeout=ctx.config.request_timeout, headers=headers)
    except FetchFailed as exc:
        if "HTTP 404" in str(exc) or "HTTP 405" in str(exc):
            raise NoManifest from None
        raise


class _Reader:
    """How one kind of catalog is fetched and cut into pieces."""

    def __init__(self, ctx: Context, state: SourceState, audience: str | None) -> None:
        self.ctx, self.state, self.audience = ctx, state, audience

    async def pages(self) -> list[Fetched]:
        raise NotImplementedError

    async def selection(self, iris: list[str]) -> list[Fetched]:
        raise NotImplementedError

    def pieces(self, page: Fetched, listing: dict[str, str]) -> tuple[list[ox.Triple], dict[str, list[ox.Triple]]]:
        raise NotImplementedError

    async def _get(self, url: str, **kw: Any) -> Fetched:
        headers = {"Accept": kw.pop("accept")}
        if self.audience is not None and self.ctx.signer is not None:
            headers["Authorization"] = authorization(self.ctx.signer, self.audience)
        return await fetch(self.ctx.session, url, limit=self.ctx.config.max_page_bytes,
                           timeout=self.ctx.config.request_timeout, headers=headers, **kw)


class DspReader(_Reader):
    def __init__(self, ctx: Context, state: SourceState, audience: str, base: str) -> None:
        super().__init__(ctx, state, audience)
        self.base = base

    def message(self, filters: list[Any]) -> dict[str, Any]:
        return {"@context": [DSP_CONTEXT], "@type": "CatalogRequestMessage", "filter": filters}

    async def pages(self) -> list[Fetched]:
        fresh = SourceState(self.state.kind, self.state.member, self.state.url)
        return (await _get_pages(self.ctx, fresh, self.state.url, accept="application/json",
                                 post=self.message([]), audience=self.audience)).pages

    async def selection(self, iris: list[str]) -> list[Fetched]:
        out = []
        for at in range(0, len(iris), DSP_SELECTION_MAX):
            chosen = {"@type": CRAWL + "Datasets", CRAWL + "dataset": iris[at:at + DSP_SELECTION_MAX]}
            out.append(await self._get(f"{self.base}/catalog/request", method="POST",
                                       json=self.message([chosen]), accept="application/json"))
        return out

    def pieces(self, page: Fetched, listing: dict[str, str]) -> tuple[list[ox.Triple], dict[str, list[ox.Triple]]]:
        doc = rdf.json_value(page.body)
        if not isinstance(doc, dict):
            raise rdf.RdfProblem("a catalog page is not a JSON object")
        found = doc.get("dataset", [])
        datasets = found if isinstance(found, list) else [found]
        context = doc.get("@context")
        key = json.dumps(context, sort_keys=True)
        left = self.ctx.config.max_triples
        named = [d for d in datasets if isinstance(d, dict) and isinstance(d.get("@id"), str)]
        if len(named) < len(datasets) or '"_:' in page.body.decode("utf-8", "replace"):
            # blank node labels may tie datasets together: the page parsed whole, then cut
            triples = stable(rdf.jsonld_triples(doc, self.state.url, left))
            return split(triples, [d["@id"] for d in named])
        skeleton = {k: v for k, v in doc.items() if k != "@context"}
        skeleton["dataset"] = [{"@id": d["@id"]} for d in named]
        base, links = split(convert(self.ctx.templates, context, key, skeleton, self.state.url, left),
                            [d["@id"] for d in named])
        return base, {d["@id"]: convert(self.ctx.templates, context, key, d, self.state.url, left)
                      + links[d["@id"]] for d in named}


class DcatReader(_Reader):
    def __init__(self, ctx: Context, state: SourceState, endpoint: str) -> None:
        super().__init__(ctx, state, None)
        self.endpoint = endpoint

    async def pages(self) -> list[Fetched]:
        fresh = SourceState(self.state.kind, self.state.member, self.state.url)
        return (await _get_pages(self.ctx, fresh, self.state.url, accept=rdf.ACCEPT)).pages

    async def selection(self, iris: list[str]) -> list[Fetched]:
        out, batch, length = [], [], 0
        for iri in iris + [""]:
            part = "dataset=" + quote(iri, safe="")
            if batch and (not iri or len(batch) == DCAT_SELECTION_MAX or length + len(part) > URL_MAX):
                out.append(await self._get(f"{self.endpoint}/catalog?" + "&".join(batch), accept=rdf.ACCEPT))
                batch, length = [], 0
            batch.append(part)
            length += len(part) + 1
        return out

    def pieces(self, page: Fetched, listing: dict[str, str]) -> tuple[list[ox.Triple], dict[str, list[ox.Triple]]]:
        triples = stable(rdf.document_triples(page.body, page.content_type or "text/turtle",
                                              page.url, self.ctx.config.max_triples))
        # the page's Hydra view (its links, the total) describes the paging, not the catalog
        views = {t.object for t in triples if t.predicate == HYDRA_VIEW}
        triples = [t for t in triples if t.predicate != HYDRA_VIEW and t.subject not in views]
        subjects = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
        return split(triples, [i for i in subjects if i in listing])


async def read(ctx: Context, reader: _Reader, manifest_url: str) -> Outcome:
    """The catalog READER reads, through the manifest at MANIFEST_URL (NoManifest: there is none)."""
    state = reader.state
    held = ctx.held.setdefault(state.graph, Held())
    answer = await _manifest(ctx, manifest_url, state, reader.audience)
    if answer.status == 304:
        state.fetched_at = now()
        return Outcome(state)
    listing = await asyncio.to_thread(_listing, answer.body)
    changed = [iri for iri, h in listing.items() if held.hashes.get(iri) != h]
    whole = not held or len(changed) > WHOLE_READ_SHARE * max(1, len(listing))
    pages = await (reader.pages() if whole else reader.selection(changed))

    def take() -> None:
        if whole:
            held.clear()
        else:
            for iri in held.keys() - listing.keys():
                held.drop(iri)
        base: list[ox.Triple] = []
        for page in pages:
            page_base, pieces = reader.pieces(page, listing)
            base += page_base
            for iri, triples in pieces.items():
                held.put(iri, triples)
                held.hashes[iri] = listing.get(iri, "")
        if whole:
            held.put(BASE, base)
        if len(held) > ctx.config.max_triples:
            raise rdf.RdfProblem(f"the catalog has more than {ctx.config.max_triples} triples")

    try:
        await asyncio.to_thread(take)
    except BaseException:
        held.clear()  # half taken: read whole next time
        raise
    state.digest = hashlib.sha256(answer.body).hexdigest()
    state.validators = {manifest_url: [answer.etag, answer.last_modified]} if answer.etag or answer.last_modified else {}
    state.fetched_at = state.changed_at = now()
    state.validation, state.problems = "conforms", []
    state.triples, state.datasets = len(held), len(held.keys())
    if whole:
        return Outcome(state, held.triples())
    return Outcome(state, delta=held.delta(), whole=held.triples)


async def dsp_catalog(ctx: Context, member: MemberRecord, state: SourceState) -> Outcome:
    base = state.url.split("/catalog/request")[0]
    try:
        return await read(ctx, DspReader(ctx, state, member.did, base), f"{base}/catalog/manifest")
    except NoManifest:
        return await sources.dsp_catalog(ctx, member, state)


async def dcat_export(ctx: Context, member: MemberRecord, state: SourceState) -> Outcome:
    try:
        return await read(ctx, DcatReader(ctx, state, member.endpoint), f"{member.endpoint}/catalog/manifest")
    except NoManifest:
        return await sources.dcat_export(ctx, member, state)


READERS = {"did": sources.did_document, "self-description": sources.self_description,
           "dsp-catalog": dsp_catalog, "dcat": dcat_export}
