"""Catalog use cases, shared by the CLI, the management API and the DSP routes.

Persist, then act: a change is committed to the store first, then mirrored to the optional
sink (the SPARQL store while the node serves; `resync` reloads it at start, so a sink that
missed a change while the node was down catches up).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from connector.auth.caller import Caller
from connector.catalog import codec, dcat, fences, files, formats, importer
from connector.catalog.model import Access, Dataset, Distribution, visible_levels
from connector.catalog.store import CatalogStore, Put
from connector.errors import ConnectorError, Reason
from policies.errors import PolicyError
from policies.evaluate import Request, evaluate
from policies.model import Policy, PolicyType
from policies.operands import Context, Scope
from policies.parse import parse_policy, parse_policy_rdf
from policies.serialize import to_jsonld
from policies.templates import members_offer, open_offer

log = logging.getLogger("communs.catalog")
MEMBERSHIP = "MembershipCredential"
DATA_DIR = fences.NODE_DATA
MAX_FILE_BYTES = 4 << 30
MAX_UPLOAD_BYTES = 1 << 30
MAX_IMPORT_BYTES = 256 << 20
DCAT_DATASET = "http://www.w3.org/ns/dcat#Dataset"
MIRROR = "urn:communs:catalog-mirror"  # a graph holding which catalog state the mirror holds
PolicyChoice = str | Mapping[str, Any]  # "open", "members", a policy file's path or an ODRL document


class CatalogSink(Protocol):
    """Where public catalog changes are mirrored (one named graph per dataset IRI)."""

    async def replace(self, iri: str, ntriples: str) -> None: ...

    async def remove(self, iri: str) -> None: ...


class SparqlSink:
    """The sink onto `connector.sparql`'s RdfStore."""

    def __init__(self, rdf_store) -> None:  # type: ignore[no-untyped-def]
        self._store = rdf_store
        self._loaded: set[str] = set()

    async def replace(self, iri: str, ntriples: str) -> None:
        await self._store.replace_graph(iri, ntriples, format="application/n-triples")

    async def remove(self, iri: str) -> None:
        await self._store.remove_graph(iri)

    async def state(self) -> str | None:
        query = f"SELECT ?s WHERE {{ GRAPH <{MIRROR}> {{ <{MIRROR}> <{MIRROR}#state> ?s }} }}"
        rows = await asyncio.to_thread(lambda: [r["s"].value for r in self._store.store.query(query)])
        return rows[0] if rows else None

    async def set_state(self, state: str | None) -> None:
        if state is None:
            await self._store.remove_graph(MIRROR)
        else:
            await self._store.replace_graph(MIRROR, f'<{MIRROR}> <{MIRROR}#state> "{state}" .', format="application/n-triples")

    async def reload(self, graphs: dict[str, str], final: bool) -> None:
        """Startup only, before anyone queries (bulk loading is not transactional): replace
        GRAPHS (iri -> N-Triples) in one bulk load; with FINAL, drop the catalog graphs that are
        no longer in the catalog (withdrawn while the node was down)."""
        if graphs:
            import pyoxigraph as ox

            def drop() -> None:  # the store API directly: twice as fast as DROP GRAPH updates
                for iri in graphs:
                    self._store.store.remove_graph(ox.NamedNode(iri))

            await asyncio.to_thread(drop)
            quads = "".join(
                line[:-1] + f"<{iri}> .\n"
                for iri, text in graphs.items()
                for line in text.splitlines()
            )
            await self._store.bulk_load(quads, "application/n-quads")
            self._loaded.update(graphs)
        if final:
            query = f"SELECT ?g WHERE {{ GRAPH ?g {{ ?g a <{DCAT_DATASET}> }} }}"
            found = await asyncio.to_thread(lambda: [r["g"].value for r in self._store.store.query(query)])
            for iri in set(found) - self._loaded:
                await self._store.remove_graph(iri)
            self._loaded = set()


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
        self._mirror_failed = False
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

    # ---- policies -----------------------------------------------------------------------

    def _offer(self, policy: PolicyChoice, uid: str) -> tuple[str, Access]:
        """(the offer as stored, the access level): open and members are templates; anything
        else is an ODRL policy, visible to anonymous callers only if it would admit one."""
        if policy == "open":
            return codec.offer_text(to_jsonld(open_offer(uid, self.did))), Access.PUBLIC
        if policy == "members":
            offer = members_offer(uid, self.did, self.trust_anchors or (self.did,))
            return codec.offer_text(to_jsonld(offer)), Access.MEMBERS
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
        return dataset

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
        return new

    async def withdraw(self, dataset_id: str) -> Dataset:
        old = await self.get(dataset_id)
        await self.store.delete(dataset_id)
        for d in old.distributions:
            if d.file:
                files.remove_copy(self.data_dir, d.file)
        if self.sink is not None and old.access is Access.PUBLIC:
            await self._safely(self.sink.remove(old.iri))
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

    # ---- the sink -----------------------------------------------------------------------

    def access_url(self, dataset: Dataset) -> str:
        return f"{self.public_url}{self.dsp_path}/catalog/datasets/{dataset.id}"

    def ntriples(self, dataset: Dataset) -> str:
        return dcat.ntriples(dataset, self.access_url(dataset))

    async def _mirror(self, dataset: Dataset, was: Dataset | None = None) -> None:
        if self.sink is None:
            return
        if dataset.access is Access.PUBLIC:
            await self._safely(self.sink.replace(dataset.iri, self.ntriples(dataset)))
        elif was is not None and was.access is Access.PUBLIC:
            await self._safely(self.sink.remove(dataset.iri))

    async def _safely(self, change) -> None:  # type: ignore[no-untyped-def]
        # the store is the truth; a failed mirror is repaired by the next resync
        try:
            await change
        except Exception:  # noqa: BLE001
            self._mirror_failed = True
            log.exception("the catalog mirror failed; it is repaired at the next start")

    async def _state(self) -> str:
        digest = hashlib.sha256(self.public_url.encode())
        for iri, fingerprint in await self.store.hashes(frozenset({Access.PUBLIC})):
            digest.update(f"\n{iri} {fingerprint}".encode())
        return digest.hexdigest()

    async def mark_synced(self) -> None:
        """When the node stops: record that the mirror holds the catalog as it is now, so that
        the next start skips the reload (unless a mirror write failed meanwhile)."""
        if self.sink is not None and hasattr(self.sink, "set_state"):
            await self.sink.set_state(None if self._mirror_failed else await self._state())

    async def resync(self, batch: int = 5000) -> int:
        """Mirror every public dataset into the sink (when the node starts serving, before it
        answers queries): a sink with `reload` gets bulk loads, any other one graph by graph.
        A sink that holds the state it was last synced to is left alone when nothing changed."""
        if self.sink is None:
            return 0
        reload = getattr(self.sink, "reload", None)
        state = None
        if hasattr(self.sink, "state"):
            state = await self._state()
            if await self.sink.state() == state:
                return 0
            await self.sink.set_state(None)  # a reload cut short must not look complete
        levels, offset, count = frozenset({Access.PUBLIC}), 0, 0
        while page := await self.store.list(levels, batch, offset):
            graphs = {d.iri: self.ntriples(d) for d in page}
            if reload is not None:
                await reload(graphs, final=False)
            else:
                for iri, text in graphs.items():
                    await self._safely(self.sink.replace(iri, text))
            count += len(page)
            offset += batch
        if reload is not None:
            await reload({}, final=True)
        if state is not None:
            await self.sink.set_state(state)
        self._mirror_failed = False
        return count


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
