"""What one member serves, fetched within bounds: its DID document, its self-description
(validated: SHACL, signatures, and the registry's digest of its claims), its DSP catalog
(authenticated as this node, every page) and its DCAT export (every page).

Each source is compared with what the last crawl saw (HTTP validators first, then a digest of
the bytes served) and parsed only when it changed."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pyoxigraph as ox

from connector.auth.client import authorization
from connector.crawler import blanks, rdf
from connector.crawler.config import CrawlerConfig
from connector.crawler.fetch import Fetched, FetchFailed, conditional, fetch, same_origin
from connector.crawler.graphs import SourceState
from connector.crawler.held import Held
from connector.crawler.members import MemberRecord
from connector.crawler.pieces import DatasetPieces
from connector.crawler.templates import Templates
from connector.identity.did import Signer, url_from_did_web
from connector.identity.resolver import DidResolver
from connector.selfdescription.digest import claims_digest
from connector.selfdescription.parse import ParseProblem, parse
from connector.selfdescription.validate import validate_self_description

DSP_VERSION = "2025-1"
DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
DCAT_DATASET = ox.NamedNode("http://www.w3.org/ns/dcat#Dataset")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@dataclass
class Context:
    session: aiohttp.ClientSession
    config: CrawlerConfig
    signer: Signer | None  # this node, to be seen as a member by members' DSP endpoints
    resolver: DidResolver
    # pyld's context cache is not thread-safe: two documents expanded at once in worker threads
    # fail with a KeyError, so the crawler's pyld work (self-descriptions, DID documents) takes turns
    pyld: asyncio.Lock = field(default_factory=asyncio.Lock)
    templates: Templates = field(default_factory=Templates)
    held: dict[str, Held] = field(default_factory=dict)  # catalogs read through manifests, by graph
    pieces: dict[str, DatasetPieces] = field(default_factory=dict)  # by DSP catalog graph
    export_pages: dict[str, dict[str, list[ox.Triple]]] = field(default_factory=dict)  # by DCAT graph


@dataclass
class Outcome:
    state: SourceState
    triples: list[ox.Triple] | None = None  # the new graph; None: unchanged or patched
    delta: tuple[list[ox.Triple], list[ox.Triple]] | None = None  # what the graph lost, gained
    whole: Callable[[], list[ox.Triple]] | None = None  # with a delta: the new graph, for stores that cannot patch


@dataclass
class Pages:
    pages: list[Fetched] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return bool(self.pages) and all(p.status == 304 for p in self.pages)

    def digest(self) -> str:
        h = hashlib.sha256()
        for p in self.pages:
            body = p.body if p.status == 200 else f"304 {p.etag}".encode()
            h.update(len(body).to_bytes(8, "big") + body)
        return h.hexdigest()

    def validators(self) -> dict[str, list[str | None]]:
        return {p.url: [p.etag, p.last_modified] for p in self.pages if p.etag or p.last_modified}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unchanged(state: SourceState, pages: Pages) -> bool:
    return pages.unchanged or (bool(state.digest) and pages.digest() == state.digest)


async def _get_pages(ctx: Context, state: SourceState, first: str, *, accept: str,
                     post: Any = None, audience: str | None = None,
                     kept: Callable[[str], bool] = lambda url: False) -> Pages:
    """Every page from FIRST on (Link rel=next), conditional where the source gave validators;
    when some pages changed and others did not, the unchanged ones are fetched again whole,
    unless the reader KEPT what they held (then they stay 304, with no body)."""
    c = ctx.config

    async def one(url: str, validators: list[str | None] | None) -> Fetched:
        headers = {"Accept": accept}
        if validators:
            headers |= conditional(validators[0], validators[1])
        if audience is not None and ctx.signer is not None:
            headers["Authorization"] = authorization(ctx.signer, audience)
        return await fetch(ctx.session, url, limit=c.max_page_bytes, timeout=c.request_timeout,
                           method="POST" if post is not None else "GET", headers=headers, json=post)

    pages = Pages()
    url: str | None = first
    while url is not None:
        if len(pages.pages) >= c.max_pages:
            raise FetchFailed(f"{first} has more than {c.max_pages} pages")
        page = await one(url, state.validators.get(url))
        if page.status == 304:  # the page as before: where it pointed on is in our state
            known = list(state.validators)
            at = known.index(url) if url in known else -1
            page = Fetched(url, 304, b"", "", page.etag or (state.validators.get(url) or [None])[0],
                           page.last_modified, known[at + 1] if 0 <= at < len(known) - 1 else None)
        pages.pages.append(page)
        url = page.next_url
    if not pages.unchanged and any(p.status == 304 for p in pages.pages):
        pages.pages = [p if p.status == 200 or kept(p.url) else await one(p.url, None)
                       for p in pages.pages]
    return pages


def _count_datasets(triples: list[ox.Triple]) -> int:
    return sum(1 for t in triples if t.predicate == RDF_TYPE and t.object == DCAT_DATASET)


async def did_document(ctx: Context, member: MemberRecord, state: SourceState) -> Outcome:
    pages = await _get_pages(ctx, state, state.url, accept="application/did+json, application/json")
    if _unchanged(state, pages):
        state.fetched_at = now()
        return Outcome(state)
    body = pages.pages[0].body
    if len(body) > ctx.config.max_document_bytes:
        raise FetchFailed(f"{state.url} is larger than {ctx.config.max_document_bytes} bytes")
    doc = rdf.json_value(body)
    problems = []
    if not isinstance(doc, dict) or doc.get("id") != member.did:
        problems.append(f"the DID document's id is not {member.did}")
    async with ctx.pyld:
        triples = await asyncio.to_thread(rdf.small_jsonld_triples, doc, state.url,
                                          ctx.config.max_triples)
    return _changed(state, pages, triples, problems)


def _changed(state: SourceState, pages: Pages, triples: list[ox.Triple], problems: list[str],
             datasets: int = 0) -> Outcome:
    """TRIPLES (blank nodes relabelled stably: blanks.py) are the source's new graph."""
    state.digest, state.validators = pages.digest(), pages.validators()
    state.fetched_at = state.changed_at = now()
    state.validation = "invalid" if problems else "conforms"
    state.problems, state.triples, state.datasets = problems, len(triples), datasets
    return Outcome(state, triples)


async def self_description(ctx: Context, member: MemberRecord, state: SourceState) -> Outcome:
    pages = await _get_pages(ctx, state, state.url,
                             accept="application/vp+jwt, application/ld+json, application/json")
    if _unchanged(state, pages):
        state.fetched_at = now()
        return Outcome(state)
    body = pages.pages[0].body
    if len(body) > ctx.config.max_document_bytes:
        raise FetchFailed(f"{state.url} is larger than {ctx.config.max_document_bytes} bytes")
    async with ctx.pyld:
        report = await validate_self_description(body, ctx.resolver)
    problems = [f"[{p.check}] {p.message}" for p in report.problems if p.severity == "Violation"]
    triples: list[ox.Triple] = []
    try:
        parsed = parse(body)
        digest = claims_digest(c.document for c in parsed.credentials)
        if digest != member.sd_hash:
            problems.append(f"[registry] the digest of its claims ({digest[:16]}...) is not the "
                            f"registry's ({member.sd_hash[:16]}...)")
        async with ctx.pyld:
            triples = await asyncio.to_thread(rdf.small_jsonld_triples, parsed.document,
                                              state.url, ctx.config.max_triples)
    except ParseProblem as exc:
        problems.append(f"[{exc.check}] {exc}")
    except rdf.RdfProblem as exc:
        problems.append(f"[json-ld] {exc}")
    return _changed(state, pages, triples, sorted(set(problems)))


async def dsp_base(ctx: Context, endpoint: str) -> str:
    page = await fetch(ctx.session, f"{endpoint}/.well-known/dspace-version",
                       limit=ctx.config.max_document_bytes, timeout=ctx.config.request_timeout,
                       headers={"Accept": "application/json"})
    versions = rdf.json_value(page.body)
    entries = versions.get("protocolVersions", []) if isinstance(versions, dict) else []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("version") == DSP_VERSION and isinstance(entry.get("path"), str):
            base = endpoint + "/" + entry["path"].strip("/")
            if same_origin(base, endpoint):
                return base
    raise FetchFailed(f"{endpoint} does not advertise the Dataspace Protocol {DSP_VERSION}")


async def dsp_catalog(ctx: Context, member: MemberRecord, state: SourceState) -> Outcome:
    message = {"@context": [DSP_CONTEXT], "@type": "CatalogRequestMessage", "filter": []}
    pieces = ctx.pieces.setdefault(state.graph, DatasetPieces(ctx.templates))
    pages = await _get_pages(ctx, state, state.url, accept="application/json", post=message,
                             audience=member.did, kept=pieces.has)
    if _unchanged(state, pages):
        state.fetched_at = now()
        return Outcome(state)

    def parse_all() -> list[ox.Triple]:
        # page by page (pyoxigraph's JSON-LD parser slows down more than linearly on long
        # arrays), and only the datasets not seen before (pieces.py)
        triples: list[ox.Triple] = []
        pieces.start()
        for page in pages.pages:
            left = ctx.config.max_triples - len(triples)
            if page.status == 304:  # as before, and kept: rebuilt from memory
                triples += pieces.again(page.url, left)
                continue
            doc = rdf.json_value(page.body)
            if not isinstance(doc, dict):
                raise rdf.RdfProblem("a catalog page is not a JSON object")
            triples += pieces.page(doc, state.url, left, page.url)
        pieces.finish()
        return triples

    triples = await asyncio.to_thread(parse_all)  # labelled stably by pieces
    return _changed(state, pages, triples, [], _count_datasets(triples))


async def dcat_export(ctx: Context, member: MemberRecord, state: SourceState) -> Outcome:
    kept = ctx.export_pages.setdefault(state.graph, {})  # page URL -> its triples, as last read
    pages = await _get_pages(ctx, state, state.url, accept=rdf.ACCEPT, kept=kept.__contains__)

    if _unchanged(state, pages):
        state.fetched_at = now()
        return Outcome(state)

    def parse_all() -> list[ox.Triple]:
        # page by page, blank nodes labelled within each (they cannot span documents, so the
        # labels are those of the whole), and a page as before (304) taken from memory
        triples: list[ox.Triple] = []
        read: dict[str, list[ox.Triple]] = {}
        for page in pages.pages:
            left = ctx.config.max_triples - len(triples)
            if page.status == 304:
                read[page.url] = kept[page.url]
            else:
                read[page.url] = blanks.stable(rdf.document_triples(
                    page.body, page.content_type or "text/turtle", page.url, left))
            triples += read[page.url]
            if len(triples) > ctx.config.max_triples:
                raise rdf.RdfProblem(f"the document has more than {ctx.config.max_triples} triples")
        kept.clear()
        kept.update(read)
        return list(dict.fromkeys(triples))

    triples = await asyncio.to_thread(parse_all)
    return _changed(state, pages, triples, [], _count_datasets(triples))


def source_urls(member: MemberRecord, base: str | None, page_size: int) -> dict[str, str]:
    """Where each kind of source of MEMBER is read from (the DSP one once its base is known)."""
    urls = {"did": url_from_did_web(member.did) if member.did.startswith("did:web:") else "",
            "self-description": f"{member.endpoint}/self-description",
            "dcat": f"{member.endpoint}/catalog?limit={page_size}"}
    if base is not None:
        urls["dsp-catalog"] = f"{base}/catalog/request?limit={page_size}"
    return urls

