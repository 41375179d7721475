"""The `[crawler]` table of communs.toml: whether the node crawls, from which ledger node, how
often, and the bounds that keep one slow or hostile member from stalling a crawl."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from connector.errors import ConnectorError, Reason

CONFIG_FILE = "communs.toml"
SECTION = "crawler"


@dataclass(frozen=True)
class CrawlerConfig:
    enabled: bool = False
    rpc_url: str | None = None  # a ledger node's RPC (http://host:port)
    genesis: str | None = None  # the ledger's genesis.json: registry answers are then verified
    interval: float = 600.0  # seconds between scheduled crawls
    concurrency: int = 8  # members fetched at once
    request_timeout: float = 10.0  # one HTTP request, connection included
    member_timeout: float = 120.0  # everything fetched from one member
    max_document_bytes: int = 2 * 1024 * 1024  # a DID document, a self-description
    max_page_bytes: int = 16 * 1024 * 1024  # one page of a catalog
    max_pages: int = 200  # pages of one catalog
    max_triples: int = 2_000_000  # of one source
    page_size: int = 500  # datasets asked for per page
    store_url: str | None = None  # an external store's SPARQL 1.1 query endpoint
    update_url: str | None = None  # its SPARQL Update endpoint
    graph_store_url: str | None = None  # its Graph Store Protocol endpoint

    @property
    def external(self) -> bool:
        return bool(self.graph_store_url)


_POSITIVE = ("interval", "request_timeout", "member_timeout")
_COUNTS = ("concurrency", "max_document_bytes", "max_page_bytes", "max_pages", "max_triples",
           "page_size")
_URLS = ("rpc_url", "store_url", "update_url", "graph_store_url")


def _bad(where: str, what: str) -> ConnectorError:
    return ConnectorError(Reason.BAD_CONFIG, f"{where}: [crawler] {what}")


def from_table(table: Any, where: str = CONFIG_FILE) -> CrawlerConfig:
    """The settings of a [crawler] table; a clear error naming the key that is wrong."""
    if not isinstance(table, dict):
        raise _bad(where, "must be a table")
    known = {f.name for f in fields(CrawlerConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise _bad(where, f"has unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    if "enabled" in table:
        if not isinstance(table["enabled"], bool):
            raise _bad(where, "enabled must be true or false")
        values["enabled"] = table["enabled"]
    for key in _POSITIVE:
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 86_400:
                raise _bad(where, f"{key} must be a number of seconds above 0, at most 86400")
            values[key] = float(v)
    for key in _COUNTS:
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise _bad(where, f"{key} must be a whole number of at least 1")
            values[key] = v
    for key in (*_URLS, "genesis"):
        if key in table:
            v = table[key]
            if not isinstance(v, str) or not v.strip():
                raise _bad(where, f"{key} must be a non-empty string")
            if key in _URLS and not v.startswith(("http://", "https://")):
                raise _bad(where, f"{key} must be an http(s) URL, not {v[:80]!r}")
            values[key] = v.strip()
    config = CrawlerConfig(**values)
    if config.enabled and not config.rpc_url:
        raise _bad(where, "enabled needs rpc_url, a ledger node's RPC address")
    if config.external and not config.update_url:
        raise _bad(where, "graph_store_url needs update_url (provenance is written by SPARQL Update)")
    return config


def load(home: Path) -> CrawlerConfig:
    """The [crawler] table of HOME's communs.toml (defaults when there is none)."""
    path = home / CONFIG_FILE
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return CrawlerConfig()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConnectorError(Reason.BAD_CONFIG, f"{path}: not valid TOML ({exc})") from None
    return from_table(raw.get(SECTION, {}), str(path))
