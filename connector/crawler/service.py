"""The crawler as a service: its store (embedded, with the node's SPARQL engine over it, or
external), its crawler, and, when `[crawler] enabled`, a crawl every `interval` seconds.

Wiring into a node is one line in the composition root:
    app.cleanup_ctx.append(crawler_context(config.home))
which also sets `app[CRAWLER]`, read by routes.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from connector.crawler.config import CrawlerConfig, load
from connector.crawler.crawl import Crawler
from connector.crawler.members import load_genesis, read_registry
from connector.crawler.report import CrawlReport
from connector.crawler.sources import Context
from connector.crawler.store import CrawlStore, EmbeddedStore, RemoteStore
from connector.errors import ConnectorError, Reason
from connector.identity.did import Signer
from connector.identity.resolver import DidResolver
from connector.sparql.service import STORE_DIR, SparqlService, SparqlSettings, open_sparql
from connector.sparql.store import RdfStore

log = logging.getLogger("communs.crawler")
FOLDER = "crawler"


@dataclass
class CrawlerService:
    config: CrawlerConfig
    crawler: Crawler
    sparql: SparqlService | None  # None with an external store: it serves its own queries
    public_url: str = ""
    last: CrawlReport | None = field(default=None)

    async def run_once(self, rpc_url: str | None = None, genesis: Path | None = None) -> CrawlReport:
        url = rpc_url or self.config.rpc_url
        if not url:
            raise ConnectorError(Reason.BAD_INPUT, "no ledger to read the members from: give --rpc "
                                 "URL or set rpc_url in [crawler]")
        path = genesis or (Path(self.config.genesis) if self.config.genesis else None)
        registry = await read_registry(url, load_genesis(path) if path else None,
                                       timeout=self.config.request_timeout + 10)
        self.last = await self.crawler.crawl(registry)
        return self.last


CRAWLER = web.AppKey("crawler", CrawlerService)


def signer_of(home: Path) -> Signer:
    """This node's signer, as `communs catalog` makes it."""
    from connector.config import load as load_node
    from connector.identity.did import did_web_from_url
    from connector.node import open_keys

    cfg = load_node(home)
    return Signer.for_store(open_keys(cfg.home), did_web_from_url(cfg.public_url))


@contextlib.asynccontextmanager
async def open_crawler(home: Path, config: CrawlerConfig | None = None, *,
                       signer: Signer | None = None, settings: SparqlSettings | None = None,
                       public_url: str = "", serve: bool = True) -> AsyncIterator[CrawlerService]:
    """The crawler of the node in HOME (its state and store under HOME/crawler); SERVE=False
    (one crawl from the command line) opens the embedded store without its query workers."""
    config = config or load(home)
    folder = home / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    timeout = aiohttp.ClientTimeout(total=None, connect=config.request_timeout)
    connector = aiohttp.TCPConnector(limit=max(4, 2 * config.concurrency))
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        ctx = Context(session, config, signer, DidResolver(session, timeout=config.request_timeout))
        if config.external:
            store: CrawlStore = RemoteStore(session, str(config.graph_store_url), str(config.update_url))
            yield CrawlerService(config, Crawler(ctx, store, folder), None, public_url)
            return
        if not serve:
            rdf_store = await asyncio.to_thread(RdfStore.open, folder / STORE_DIR)
            try:
                yield CrawlerService(config, Crawler(ctx, EmbeddedStore(rdf_store), folder), None,
                                     public_url)
            finally:
                await asyncio.to_thread(rdf_store.close)
            return
        async with open_sparql(folder, settings) as sparql:
            yield CrawlerService(config, Crawler(ctx, EmbeddedStore(sparql.store), folder), sparql,
                                 public_url)


async def _every(service: CrawlerService) -> None:
    while True:
        try:
            report = await service.run_once()
            log.info("crawl: %d members, %d datasets, %d failures in %.1f s",
                     len(report.members), report.to_json()["datasets"],
                     report.to_json()["failures"], report.seconds)
        except ConnectorError as exc:
            log.warning("crawl failed: %s", exc)
        await asyncio.sleep(service.config.interval)


def crawler_context(home: Path, config: CrawlerConfig | None = None, *, public_url: str = "",
                    settings: SparqlSettings | None = None, signer: Signer | None = None,
                    ) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context: opens the crawler, crawls on schedule when enabled, and
    stops the schedule before closing the store. SIGNER: the node's (read from HOME's keys
    when not given)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        cfg = config or load(home)
        signer_ = signer or await asyncio.to_thread(signer_of, home)
        async with open_crawler(home, cfg, signer=signer_, settings=settings,
                                public_url=public_url) as service:
            app[CRAWLER] = service
            task = asyncio.create_task(_every(service), name="crawler") if cfg.enabled else None
            try:
                yield
            finally:
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    return context
