"""One crawl: read the registry, fetch every member in good standing (at most `concurrency`
at once, each within `member_timeout`), rewrite the graphs that changed, drop the graphs of
members no longer in good standing, and rewrite the provenance graph."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from connector.crawler import graphs
from connector.crawler import state as saved
from connector.crawler.collect import fewer_collections, set_aside
from connector.crawler.fetch import FetchFailed
from connector.crawler.graphs import KINDS, SourceState, graph_name
from connector.crawler.incremental import READERS
from connector.crawler.members import MemberRecord, Registry
from connector.crawler.rdf import RdfProblem
from connector.crawler.report import CrawlReport, MemberReport
from connector.crawler.sources import Context, Outcome, dsp_base, now, source_urls
from connector.crawler.store import CrawlStore, EmbeddedStore, replace_by_update


class Crawler:
    """Crawls into STORE, keeping what it saw in FOLDER/state.json."""

    def __init__(self, ctx: Context, store: CrawlStore, folder: Path) -> None:
        self.ctx = ctx
        self.store = store
        self.folder = folder
        self.states = saved.load(folder)
        self._lock = asyncio.Lock()  # one crawl at a time per crawler

    async def crawl(self, registry: Registry) -> CrawlReport:
        async with self._lock:
            with fewer_collections():
                return await self._crawl(registry)

    async def _crawl(self, registry: Registry) -> CrawlReport:
        started = time.monotonic()
        report = CrawlReport(registry.height, all(m.verified for m in registry.members), now())
        limit = asyncio.Semaphore(self.ctx.config.concurrency)

        async def one(member: MemberRecord) -> MemberReport:
            async with limit:
                return await self._member(member)

        active = {m.did: m for m in registry.active}
        report.members = list(await asyncio.gather(*(one(m) for m in active.values())))
        for member in registry.members:
            if member.did not in active:
                report.members.append(MemberReport(member.did, member.endpoint, member.status))
        for name, s in list(self.states.items()):
            if s.member not in active:
                await self.store.remove(name)
                del self.states[name]
                report.removed.append(name)
        await replace_by_update(self.store, graphs.PROVENANCE, graphs.provenance(self.states.values()))
        saved.save(self.folder, self.states)
        report.seconds = time.monotonic() - started
        return report

    async def _member(self, member: MemberRecord) -> MemberReport:
        started = time.monotonic()
        out = MemberReport(member.did, member.endpoint, member.status)
        try:
            async with asyncio.timeout(self.ctx.config.member_timeout):
                await self._sources(member, out)
        except TimeoutError:
            for kind in KINDS:
                if kind not in out.changed and kind not in out.unchanged:
                    out.failures.setdefault(kind, f"the member took longer than "
                                                  f"{self.ctx.config.member_timeout:g} s in all")
        out.seconds = time.monotonic() - started
        return out

    async def _sources(self, member: MemberRecord, out: MemberReport) -> None:
        try:
            base: str | None = await dsp_base(self.ctx, member.endpoint)
        except (FetchFailed, RdfProblem) as exc:
            base = None
            out.failures["dsp-catalog"] = str(exc)
        urls = source_urls(member, base, self.ctx.config.page_size)
        for kind, url in urls.items():
            if not url:
                out.failures[kind] = f"{member.did} is not a did:web: no document to fetch"
                continue
            name = graph_name(kind, member.did)
            state = self.states.get(name)
            if state is None or state.url != url:
                state = SourceState(kind, member.did, url)
            try:
                outcome: Outcome = await READERS[kind](self.ctx, member, state)
            except (FetchFailed, RdfProblem) as exc:
                out.failures[kind] = str(exc)
                continue
            if outcome.delta is not None and isinstance(self.store, EmbeddedStore):
                await self.store.patch(name, *outcome.delta)
                out.changed.append(kind)
            elif outcome.triples is not None or outcome.whole is not None:
                await self.store.replace(name, outcome.triples if outcome.triples is not None
                                         else outcome.whole())  # type: ignore[misc]
                out.changed.append(kind)
                set_aside()
            else:
                out.unchanged.append(kind)
            self.states[name] = outcome.state
            if outcome.state.problems:
                out.invalid[kind] = outcome.state.problems
        catalogs = [self.states.get(graph_name(k, member.did)) for k in ("dsp-catalog", "dcat")]
        counted = [s.datasets for s in catalogs if s is not None and s.member == member.did]
        out.datasets = counted[0] if counted else 0
