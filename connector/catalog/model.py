"""A catalog entry: a DCAT Dataset with its Distributions, who may see it and what it offers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Access(StrEnum):
    """Who sees a dataset in the catalog (the contract offer says who may *use* it)."""

    PUBLIC = "public"  # everyone, anonymous callers included
    MEMBERS = "members"  # authenticated callers holding a verified MembershipCredential


def visible_levels(authenticated: bool, member: bool) -> frozenset[Access]:
    if member:
        return frozenset(Access)
    return frozenset({Access.PUBLIC})


@dataclass(frozen=True)
class Distribution:
    iri: str
    title: str | None = None
    media_type: str | None = None  # IANA media type
    format: str | None = None  # a format IRI or the DSP transfer format, e.g. HttpData-PULL
    access_url: str | None = None  # remote HTTP source (or the original record's accessURL)
    download_url: str | None = None
    byte_size: int | None = None
    checksum: str | None = None  # sha256, hex
    file: str | None = None  # relative path of our copy under <home>/data


@dataclass(frozen=True)
class Dataset:
    id: str  # local, URL-safe
    iri: str  # the DCAT dataset IRI, the DSP @id
    title: str
    publisher: str  # the publishing agent's IRI (the node's DID for what we publish)
    access: Access
    offers: tuple[str, ...]  # ODRL Offers, each as DSP compact JSON-LD text (no @context)
    distributions: tuple[Distribution, ...] = ()
    description: str | None = None
    keywords: tuple[str, ...] = ()
    license: str | None = None
    issued: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    source: str = "publish"  # "publish" or "import"

    def fingerprint(self) -> str:
        """A hash of the content (not of the times): re-importing the same record changes nothing."""
        body = to_json(self)
        for key in ("issued", "modified"):
            body.pop(key)
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def offer_documents(self) -> list[dict[str, Any]]:
        return [json.loads(o) for o in self.offers]

    def touched(self, now: datetime) -> Dataset:
        return replace(self, modified=now)


def to_json(dataset: Dataset) -> dict[str, Any]:
    """The storage and management-API shape (camelCase is left to the routes)."""
    body = asdict(dataset)
    body["access"] = dataset.access.value
    body["offers"] = list(dataset.offers)
    body["keywords"] = list(dataset.keywords)
    body["distributions"] = [asdict(d) for d in dataset.distributions]
    body["issued"] = dataset.issued.isoformat()
    body["modified"] = dataset.modified.isoformat()
    return body


def from_json(body: dict[str, Any]) -> Dataset:
    return Dataset(
        id=body["id"],
        iri=body["iri"],
        title=body["title"],
        publisher=body["publisher"],
        access=Access(body["access"]),
        offers=tuple(body["offers"]),
        distributions=tuple(Distribution(**d) for d in body["distributions"]),
        description=body.get("description"),
        keywords=tuple(body.get("keywords", ())),
        license=body.get("license"),
        issued=datetime.fromisoformat(body["issued"]),
        modified=datetime.fromisoformat(body["modified"]),
        source=body.get("source", "publish"),
    )


def summary(dataset: Dataset) -> dict[str, Any]:
    """What the management API and `--json` print."""
    return {
        "id": dataset.id,
        "iri": dataset.iri,
        "title": dataset.title,
        "description": dataset.description,
        "keywords": list(dataset.keywords),
        "license": dataset.license,
        "publisher": dataset.publisher,
        "access": dataset.access.value,
        "offers": dataset.offer_documents(),
        "distributions": [
            {k: v for k, v in asdict(d).items() if v is not None} for d in dataset.distributions
        ],
        "issued": dataset.issued.isoformat(),
        "modified": dataset.modified.isoformat(),
        "source": dataset.source,
    }
