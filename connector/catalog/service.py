"""Catalog use cases, shared by the CLI, the management API and the DSP routes.

Persist, then act: a change is committed to the store first, then mirrored to the optional
sink (the SPARQL store while the node serves, see `mirror.py`). The service knows what the
sink holds, so that a change the sink missed (made by another process, or a failed write)
is repaired when the node next starts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.auth.caller import MEMBERSHIP, Caller
from connector.catalog import codec, dcat, fences, files, formats, importer
from connector.catalog.mirror import CatalogSink, DurableSink, state_of
from connector.catalog.model import Access, Dataset, Distribution, visible_levels
from connector.catalog.selection import View
from connector.catalog.store import CatalogStore, Put
from connector.errors import ConnectorError, Reason
from connector.ledger.market import UCOM, parse_price
from policies.errors import PolicyError
from policies.evaluate import Request, evaluate
from policies.model import Policy, PolicyType
from policies.operands import Context, Scope
from policies.parse import parse_policy, parse_policy_rdf
from policies.serialize import to_jsonld
from policies.templates import members_offer, open_offer, pay_per_use_offer

log = logging.getLogger("communs.catalog")
DATA_DIR = fences.NODE_DATA
MAX_FILE_BYTES = 4 << 30
MAX_UPLOAD_BYTES = 1 << 30
MAX_IMPORT_BYTES = 256 << 20
PUBLIC = frozenset({Access.PUBLIC})
PolicyChoice = str | Mapping[str, Any]  # "open", "members", "paid:AMOUNT", a policy file's path or an ODRL document
PAID = "paid:"  # paid:5com: each use costs that much, paid on the ledger


def _now() -> datetime:
    return datetime.now(UTC)


class CatalogService:
    def __init__(
        self,
        store: CatalogStore,
        *,
        home: Path,
        did: str,
        public_url: str,
        trust_anchors: Sequence[str] = (),
        allowed_roots: Sequence[Path] | None = None,
        secrets: Sequence[bytes] = (),
        sink: CatalogSink | None = None,
        dsp_path: str = "/dsp",
        max_file_bytes: int = MAX_FILE_BYTES,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        name: str | None = None,
    ) -> None:
        """ALLOWED_ROOTS: the folders a local file may be published from (the management
        API's allow-list); None for the operator's own shell, which may publish any file it
        can read. SECRETS: byte strings no published file may contain (the node's token...)."""
        self.store = store
        self.name = name or did  # the catalog's title in the DCAT-AP export
        # told of each dataset published or changed (the ledger lists the paid ones)
        self.published: list[Callable[[Dataset], Awaitable[None]]] = []
        self.data_dir = home / DATA_DIR
        self.did = did
        self.public_url = public_url.rstrip("/")
        self.trust_anchors = tuple(trust_anchors)
        self.allowed_roots = tuple(allowed_roots) if allowed_roots is not None else None
        self.secrets = tuple(secrets)
        self.sink = sink
        self.dsp_path = dsp_path
        self.max_file_bytes = max_file_bytes
        self.max_upload_bytes = max_upload_bytes
        # iri -> fingerprint of what the sink holds, known from the last resync on
        self._mirrored: dict[str, str] | None = None

    # ---- policies -----------------------------------------------------------------------

    def _offer(self, policy: PolicyChoice, uid: str) -> tuple[str, Access]:
        """(the offer as stored, the access level): open and members are templates; anything
        else is an ODRL policy, visible to anonymous callers only if it would admit one."""
        if policy == "open":
            return codec.offer_text(to_jsonld(open_offer(uid, self.did))), Access.PUBLIC
        if policy == "members":
            offer = members_offer(uid, self.did, (self.did, *self.trust_anchors))
            return codec.offer_text(to_jsonld(offer)), Access.MEMBERS
        if isinstance(policy, str) and policy.startswith(PAID):  # each use paid on the ledger
            price = Decimal(parse_price(policy[len(PAID):]))
            offer = pay_per_use_offer(uid, self.did, price, currency=UCOM)
            return codec.offer_text(to_jsonld(offer)), Access.PUBLIC
        parsed = self.read_policy(Path(policy)) if isinstance(policy, str) else _policy_document(policy)
        parsed = dataclasses.replace(parsed, type=PolicyType.OFFER, uid=uid, assigner=self.did, targets=())
        anonymous = Context(now=_now(), scope=Scope.CATALOG)
        access = Access.PUBLIC if evaluate(parsed, Request(None), anonymous).allowed else Access.MEMBERS
        return codec.offer_text(to_jsonld(parsed)), access

    @staticmethod
    def read_policy(path: Path) -> Policy:
        """An ODRL policy file: JSON-LD, or Turtle by its suffix."""
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConnectorError(Reason.BAD_INPUT, f"cannot read the policy file {path}: {exc}") from None
        try:
            if path.suffix.lower() in (".ttl", ".turtle"):
                return parse_policy_rdf(text, "turtle", require_action=True)
            return parse_policy(json.loads(text))
        except ValueError as exc:
            raise ConnectorError(Reason.BAD_INPUT, f"the policy file {path} is not JSON: {exc}") from None
        except PolicyError as exc:
            raise ConnectorError(Reason.BAD_INPUT, f"the policy file {path} is not a usable ODRL policy: {exc}") from None

    # ---- publishing ---------------------------------------------------------------------

    def _entry(
        self, title: str, description: str | None, keywords: Sequence[str], license: str | None, policy: PolicyChoice
    ) -> Dataset:
        """A new dataset without distributions, every metadata check done (nothing written)."""
        if license is not None:
            _check_license(license)
        dataset_id = uuid.uuid4().hex
        offer, access = self._offer(policy, f"urn:uuid:{uuid.uuid4()}")
        now = _now()
        return Dataset(
            id=dataset_id, iri=f"urn:uuid:{uuid.UUID(dataset_id)}", title=_clean(title, "title"),
            publisher=self.did, access=access, offers=(offer,), description=description,
            keywords=tuple(_clean(k, "keyword") for k in keywords), license=license,
            issued=now, modified=now,
        )

    def _stored(self, entry: Dataset, stored: files.StoredFile, name: str) -> Distribution:
        return Distribution(
            iri=f"{entry.iri}#distribution", title=name, media_type=stored.media_type,
            byte_size=stored.size, checksum=stored.sha256, file=stored.relative,
        )

    async def _register(self, entry: Dataset, distribution: Distribution) -> Dataset:
        dataset = dataclasses.replace(entry, distributions=(distribution,))
        try:
            await self.store.put(dataset)
        except BaseException:
            if distribution.file:
                files.remove_copy(self.data_dir, distribution.file)
            raise
        await self._mirror(dataset)
        await self._announce(dataset)
        return dataset

    async def _announce(self, dataset: Dataset) -> None:
        for listener in self.published:
            await listener(dataset)

    async def publish(
        self,
        source: str,
        *,
        title: str,
        description: str | None = None,
        keywords: Sequence[str] = (),
        license: str | None = None,
        policy: PolicyChoice = "open",
    ) -> Dataset:
        """Register a local file (copied into <home>/data, with size and sha256) or a remote
        http(s) source. Every check runs before anything is written."""
        entry = self._entry(title, description, keywords, license, policy)
        if source.startswith(("http://", "https://")):
            return await self._register(entry, Distribution(iri=f"{entry.iri}#distribution", access_url=files.check_remote(source)))
        opened = files.open_source(source, self.allowed_roots)
        fence = fences.ContentFence(str(opened.path), self.secrets)
        copied = await asyncio.to_thread(files.copy_into, opened, self.data_dir, entry.id, self.max_file_bytes, fence)
        return await self._register(entry, self._stored(entry, copied, opened.path.name))

    async def publish_upload(
        self,
        name: str,
        chunks: AsyncIterable[bytes],
        *,
        title: str,
        description: str | None = None,
        keywords: Sequence[str] = (),
        license: str | None = None,
        policy: PolicyChoice = "open",
    ) -> Dataset:
        """Register a file sent over the management API: stored under <home>/data as it
        arrives (size-capped, fenced like a copied file), once the metadata passed its checks."""
        entry = self._entry(title, description, keywords, license, policy)
        name = files.check_upload_name(name)
        fence = fences.ContentFence(name, self.secrets)
        stored = await files.receive(chunks, self.data_dir, entry.id, name, self.max_upload_bytes, fence)
        return await self._register(entry, self._stored(entry, stored, name))

    async def update(
        self,
        dataset_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        keywords: Sequence[str] | None = None,
        license: str | None = None,
        policy: PolicyChoice | None = None,
    ) -> Dataset:
        old = await self.get(dataset_id)
        changes: dict[str, object] = {}
        if title is not None:
            changes["title"] = _clean(title, "title")
        if description is not None:
            changes["description"] = description
        if keywords is not None:
            changes["keywords"] = tuple(_clean(k, "keyword") for k in keywords)
        if license is not None:
            changes["license"] = _check_license(license)
        if policy is not None:
            offer, access = self._offer(policy, f"urn:uuid:{uuid.uuid4()}")
            changes.update(offers=(offer,), access=access)
        new = dataclasses.replace(old, **changes, modified=_now())  # type: ignore[arg-type]
        if await self.store.put(new) is not Put.UNCHANGED:
            await self._mirror(new, was=old)
            await self._announce(new)
        return new

    async def withdraw(self, dataset_id: str) -> Dataset:
        old = await self.get(dataset_id)
        await self.store.delete(dataset_id)
        for d in old.distributions:
            if d.file:
                files.remove_copy(self.data_dir, d.file)
        if self.sink is not None and old.access is Access.PUBLIC:
            await self._safely(self.sink.remove(old.iri), old.iri, None)
        return old

    # ---- reading ------------------------------------------------------------------------

    async def get(self, dataset_id: str) -> Dataset:
        found = await self.store.get(dataset_id)
        if found is None:
            raise ConnectorError(Reason.NOT_FOUND, f"no dataset {dataset_id}")
        return found

    async def list(self, limit: int = 100, offset: int = 0) -> list[Dataset]:
        return await self.store.list(frozenset(Access), limit, offset)

    @staticmethod
    def levels_for(caller: Caller | None) -> frozenset[Access]:
        member = caller is not None and caller.has_credential(MEMBERSHIP)
        return visible_levels(caller is not None, member)

    async def page(self, caller: Caller | None, limit: int, offset: int) -> tuple[list[Dataset], int]:
        """What CALLER may see: a page and the total (anonymous: public datasets only)."""
        levels = self.levels_for(caller)
        items, total = await asyncio.gather(
            self.store.list(levels, limit, offset), self.store.count(levels)
        )
        return items, total

    async def datasets(self, caller: Caller | None, view: View) -> tuple[list[Dataset], int]:
        """What CALLER may see of VIEW (a page, or those among its IRIs) and how many in all."""
        if not view.selects:
            return await self.page(caller, view.limit, view.offset)
        found = await self.store.by_iris(self.levels_for(caller), view.iris or ())
        return found, len(found)

    async def fingerprints(self, caller: Caller | None, view: View) -> tuple[list[tuple[str, str]], int]:
        """(iri, content hash) of what `datasets` would answer, and the total: no dataset loaded."""
        levels = self.levels_for(caller)
        if view.selects:
            found = await self.store.hashes(levels, iris=view.iris or ())
            return found, len(found)
        window, total = await asyncio.gather(self.store.hashes(levels, view.limit, view.offset),
                                             self.store.count(levels))
        return window, total

    async def visible(self, caller: Caller | None, key: str) -> Dataset:
        """By IRI (the DSP @id) or local id; NOT_FOUND also when CALLER may not see it, so
        that a hidden dataset's existence does not leak."""
        found = await self.store.lookup(key)
        if found is None or found.access not in self.levels_for(caller):
            raise ConnectorError(Reason.NOT_FOUND, f"no dataset {key}")
        return found

    # ---- import -------------------------------------------------------------------------

    async def import_dcat(self, data: bytes, source: str = "catalog.ttl", fmt: str | None = None) -> importer.ImportReport:
        """Import every valid dataset of a DCAT(-AP) file as public open data; idempotent.
        SOURCE names the file (its suffix tells the format, unless FMT does)."""
        if len(data) > MAX_IMPORT_BYTES:
            raise ConnectorError(Reason.TOO_LARGE, f"{source} is above the {MAX_IMPORT_BYTES} bytes limit")

        def offers_for(iri: str) -> tuple[str, ...]:
            # a stable offer id: re-importing the same record yields the same dataset
            uid = f"urn:communs:offer:{dcat.local_id(iri)}"
            return (codec.offer_text(to_jsonld(open_offer(uid, self.did))),)

        def work() -> tuple[list[Dataset], importer.ImportReport]:
            graph = importer.parse(data, fmt or formats.format_of(source, data), source)
            return importer.check(graph, self.did, offers_for, _now())

        datasets, report = await asyncio.to_thread(work)
        results = await self.store.put_many(datasets)
        for dataset, result in zip(datasets, results, strict=True):
            getattr(report, result.value).append(dataset.iri)
            if result is not Put.UNCHANGED:
                await self._mirror(dataset)
        return report

    # ---- the mirror ---------------------------------------------------------------------

    def access_url(self, dataset: Dataset) -> str:
        return f"{self.public_url}{self.dsp_path}/catalog/datasets/{dataset.id}"

    def ntriples(self, dataset: Dataset) -> str:
        return dcat.ntriples(dataset, self.access_url(dataset))

    def _state(self, fingerprints: Iterable[tuple[str, str]]) -> str:
        # the mirrored triples depend on the datasets and on where the node says they are
        return state_of(f"{self.public_url}{self.dsp_path}", fingerprints)

    async def _mirror(self, dataset: Dataset, was: Dataset | None = None) -> None:
        if self.sink is None:
            return
        if dataset.access is Access.PUBLIC:
            await self._safely(self.sink.replace(dataset.iri, self.ntriples(dataset)), dataset.iri, dataset.fingerprint())
        elif was is not None and was.access is Access.PUBLIC:
            await self._safely(self.sink.remove(dataset.iri), dataset.iri, None)

    async def _safely(self, change: Awaitable[None], iri: str, fingerprint: str | None) -> None:
        # the store is the truth; a failed mirror write leaves the mirror unknown, so that the
        # next start rebuilds it
        try:
            await change
        except Exception:  # noqa: BLE001
            self._mirrored = None
            log.exception("the catalog mirror failed; it is repaired at the next start")
            return
        if self._mirrored is not None:
            if fingerprint is None:
                self._mirrored.pop(iri, None)
            else:
                self._mirrored[iri] = fingerprint

    async def mark_synced(self) -> None:
        """When the node stops: record which catalog state the mirror holds (what was written
        to it, not what the database holds: a change made by another process meanwhile is
        not in the mirror), unless a mirror write failed."""
        if isinstance(self.sink, DurableSink) and self._mirrored is not None:
            await self.sink.record(self._state(self._mirrored.items()))

    async def resync(self, batch: int = 5000) -> int:
        """When the node starts serving, before it answers queries: check the mirror against
        the database and rebuild it when they differ (a durable sink gets bulk loads, any
        other one graph by graph). Returns how many datasets were mirrored again."""
        sink = self.sink
        if sink is None:
            return 0
        self._mirrored = None
        durable = isinstance(sink, DurableSink)
        if durable:
            expected = await self.store.hashes(PUBLIC)
            recorded = await sink.take_record()  # forgotten: a crash from now on forces a rebuild
            if recorded == self._state(expected) and await sink.dataset_graphs() == {i for i, _ in expected}:
                self._mirrored = dict(expected)
                return 0
        mirrored: dict[str, str] = {}
        offset = 0
        while page := await self.store.list(PUBLIC, batch, offset):
            graphs = {d.iri: self.ntriples(d) for d in page}
            if durable:
                await sink.reload(graphs, final=False)
            else:
                for iri, text in graphs.items():
                    await sink.replace(iri, text)
            mirrored.update((d.iri, d.fingerprint()) for d in page)
            offset += batch
        if durable:
            await sink.reload({}, final=True)
        self._mirrored = mirrored
        return len(mirrored)


def _policy_document(document: Mapping[str, Any]) -> Policy:
    try:
        return parse_policy(dict(document))
    except PolicyError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"the policy is not a usable ODRL policy: {exc}") from None


def _clean(value: str, what: str) -> str:
    text = value.strip()
    if not text or len(text) > 1000 or any(ord(c) < 32 for c in text):
        raise ConnectorError(Reason.BAD_INPUT, f"the {what} must be 1 to 1000 printable characters")
    return text


def _check_license(value: str) -> str:
    if value.startswith(("http://", "https://")):
        return files.check_remote(value)
    if ":" not in value or any(c in value for c in ' <>"{}|\\^`') or any(ord(c) < 33 for c in value):
        raise ConnectorError(Reason.BAD_INPUT, f"the licence {value!r} must be an IRI")
    return value
