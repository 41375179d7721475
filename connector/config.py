"""The node's configuration: `communs.toml` in the node's folder.

Loading validates every field and names the file and field in one sentence, so a bad
config stops the node before it binds a port or touches a key.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomli_w

from connector.crawler.config import CrawlerConfig
from connector.crawler.config import from_table as crawler_settings
from connector.errors import ConnectorError, Reason
from connector.ledger.config import LedgerConfig
from connector.ledger.config import from_table as ledger_settings
from connector.selfdescription.model import RegistrationNumber, check_subdivision

CONFIG_FILE = "communs.toml"
TOKEN_FILE = "management.token"


def default_home() -> Path:
    return Path(os.environ.get("COMMUNS_HOME") or ".communs")


@dataclass(frozen=True)
class StaticCaller:
    """[auth] static_callers: a test participant known by a token file (conformance testing
    only: connector/auth/static_callers.py)."""

    id: str
    token_file: str


@dataclass(frozen=True)
class ComputeConfig:
    """[compute]: how this node runs compute-to-data jobs for others."""

    allow_unisolated: bool = False  # run jobs even where the sandbox cannot isolate them
    manual_release: bool = False  # every result waits for `communs jobs approve`
    parallel: int = 1  # jobs run at once
    cpu_seconds: int = 60
    wall_seconds: int = 120
    memory_bytes: int = 1 << 30
    output_bytes: int = 64 << 20

    def to_toml(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class CatalogConfig:
    """[catalog]: what the management API may publish (the operator's shell may publish any
    file it can read; no one may publish a node's own files but its data/)."""

    # folders the API may publish files from, relative ones under the node's folder; unset:
    # the folder the node was started in, and its data/
    publish_roots: tuple[str, ...] | None = None
    max_upload_bytes: int = 1 << 30  # a file uploaded to the API, or a catalog it imports

    def to_toml(self) -> dict[str, Any]:
        table: dict[str, Any] = {"max_upload_bytes": self.max_upload_bytes}
        if self.publish_roots is not None:
            table["publish_roots"] = list(self.publish_roots)
        return table


@dataclass(frozen=True)
class SparqlConfig:
    """[sparql]: each caller's share of the query workers (anonymous callers by address,
    members by DID): queries running at once, queued beyond those, seconds each may run."""

    anonymous_running: int = 1
    anonymous_waiting: int = 4
    anonymous_timeout: float = 5.0
    member_running: int = 2
    member_waiting: int = 8
    member_timeout: float = 10.0

    def to_toml(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class NodeConfig:
    home: Path
    name: str
    public_url: str
    public_host: str = "127.0.0.1"
    public_port: int = 8181
    management_host: str = "127.0.0.1"
    management_port: int = 8182
    country: str | None = None
    registration_number: str | None = None
    database: str = "sqlite:///communs.db"
    dev: bool = False
    allow_private_dids: bool = False
    max_body_bytes: int = 1024 * 1024
    trust_anchors: tuple[str, ...] = field(default_factory=tuple)
    callback_origins: tuple[str, ...] = field(default_factory=tuple)  # any caller's callbacks
    compute: ComputeConfig = field(default_factory=ComputeConfig)
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    sparql: SparqlConfig = field(default_factory=SparqlConfig)
    provider_decisions: str = "auto"  # [negotiation]: "auto" (the ODRL evaluator) or "manual"
    consumer_decisions: str = "auto"
    # [transfer] provider_decisions: "auto" (start each request the agreement allows) or "manual"
    transfer_provider_decisions: str = "auto"
    # [auth] static_callers: conformance testing only (connector/auth/static_callers.py)
    static_callers: tuple[StaticCaller, ...] = field(default_factory=tuple)
    crawler: CrawlerConfig = field(default_factory=CrawlerConfig)  # [crawler]: connector/crawler
    ledger: LedgerConfig = field(default_factory=LedgerConfig)  # [ledger]: connector/ledger

    @property
    def database_url(self) -> str:
        """The SQLAlchemy async URL; a relative SQLite path lives in the node's folder."""
        url = self.database
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            url = f"sqlite:///{(self.home / url[len('sqlite:///'):]).resolve()}"
        if url.startswith("sqlite://"):
            return url.replace("sqlite://", "sqlite+aiosqlite://", 1)
        if url.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        return url

    @property
    def management_url(self) -> str:
        return f"http://{self.management_host}:{self.management_port}"

    def to_toml(self) -> dict[str, Any]:
        node: dict[str, Any] = {"name": self.name, "dev": self.dev}
        if self.country:
            node["country"] = self.country
        if self.registration_number:
            node["registration_number"] = self.registration_number
        extra: dict[str, Any] = {}
        if self.transfer_provider_decisions != "auto":
            extra["transfer"] = {"provider_decisions": self.transfer_provider_decisions}
        if self.crawler != CrawlerConfig():
            extra["crawler"] = {k: v for k, v in dataclasses.asdict(self.crawler).items()
                                if v is not None}
        if self.ledger.enabled:
            extra["ledger"] = self.ledger.to_toml()
        if self.static_callers:  # written only when set: init never enables it
            extra["auth"] = {"static_callers": [{"id": c.id, "token_file": c.token_file} for c in self.static_callers]}
        return {
            "node": node,
            "public": {"url": self.public_url, "host": self.public_host, "port": self.public_port},
            "management": {"host": self.management_host, "port": self.management_port},
            "storage": {"database": self.database},
            "security": {
                "allow_private_dids": self.allow_private_dids,
                "max_body_bytes": self.max_body_bytes,
                "trust_anchors": list(self.trust_anchors),
                "callback_origins": list(self.callback_origins),
            },
            "compute": self.compute.to_toml(),
            "catalog": self.catalog.to_toml(),
            "sparql": self.sparql.to_toml(),
            "negotiation": {
                "provider_decisions": self.provider_decisions,
                "consumer_decisions": self.consumer_decisions,
            },
            **extra,
        }


def _bad(home: Path, what: str) -> ConnectorError:
    return ConnectorError(Reason.BAD_CONFIG, f"{home / CONFIG_FILE}: {what}")


def validate_public_url(url: str) -> tuple[str, int]:
    """(host, port) of a public URL, or a BAD_INPUT error saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectorError(Reason.BAD_INPUT, f"the public URL {url!r} must be http(s)://host[:port]")
    if parts.query or parts.fragment:
        raise ConnectorError(Reason.BAD_INPUT, f"the public URL {url!r} must not have a query or fragment")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ConnectorError(Reason.BAD_INPUT, f"the public URL {url!r} has an invalid port") from None
    return parts.hostname, port


def _get(home: Path, table: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = table.get(key, default)
    if value is None:
        return None
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise _bad(home, f"{key} must be a {kind.__name__}, not {value!r}")
    return value


def load(home: Path) -> NodeConfig:
    path = home / CONFIG_FILE
    if not path.is_file():
        raise ConnectorError(
            Reason.BAD_CONFIG, f"no {CONFIG_FILE} in {home}: run `communs init` first or pass --dir"
        )
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _bad(home, f"not valid TOML ({exc})") from None
    sections = {}
    for name in ("node", "public", "management", "storage", "security", "compute", "negotiation", "catalog",
                 "sparql", "auth", "transfer", "crawler", "ledger"):
        section = raw.get(name, {})
        if not isinstance(section, dict):
            raise _bad(home, f"[{name}] must be a table")
        sections[name] = section
    node, public, mgmt = sections["node"], sections["public"], sections["management"]
    storage, security = sections["storage"], sections["security"]
    name = _get(home, node, "name", str)
    url = _get(home, public, "url", str)
    if not name or not url:
        raise _bad(home, "[node] name and [public] url are required")
    try:
        _, url_port = validate_public_url(url)
        country = _get(home, node, "country", str)
        reg = _get(home, node, "registration_number", str)
        if country:
            check_subdivision(country)
        if reg:
            RegistrationNumber.parse(reg)
    except ConnectorError as exc:
        raise _bad(home, str(exc)) from None
    ports = []
    for section, key, default in ((public, "port", url_port), (mgmt, "port", url_port + 1)):
        port = _get(home, section, key, int, default)
        if not 0 <= port <= 65535:
            raise _bad(home, f"port {port} is out of range")
        ports.append(port)
    anchors = _get(home, security, "trust_anchors", list, [])
    if not all(isinstance(a, str) and a.startswith("did:") for a in anchors):
        raise _bad(home, "[security] trust_anchors must be a list of DIDs")
    callback_origins = _get(home, security, "callback_origins", list, [])
    if not all(isinstance(o, str) and _is_origin(o) for o in callback_origins):
        raise _bad(home, "[security] callback_origins must be a list of http(s)://host[:port] origins")
    max_body = _get(home, security, "max_body_bytes", int, 1024 * 1024)
    if max_body < 1024:
        raise _bad(home, "[security] max_body_bytes must be at least 1024")
    return NodeConfig(
        home=home,
        name=name,
        public_url=url.rstrip("/"),
        public_host=_get(home, public, "host", str, "127.0.0.1"),
        public_port=ports[0],
        management_host=_get(home, mgmt, "host", str, "127.0.0.1"),
        management_port=ports[1],
        country=country,
        registration_number=reg,
        database=_get(home, storage, "database", str, "sqlite:///communs.db"),
        dev=_get(home, node, "dev", bool, False),
        allow_private_dids=_get(home, security, "allow_private_dids", bool, False),
        max_body_bytes=max_body,
        trust_anchors=tuple(anchors),
        callback_origins=tuple(callback_origins),
        compute=_compute(home, sections["compute"]),
        catalog=_catalog(home, sections["catalog"]),
        sparql=_sparql(home, sections["sparql"]),
        **_decisions(home, sections["negotiation"]),
        static_callers=_static_callers(home, sections["auth"]),
        transfer_provider_decisions=_transfer_decisions(home, sections["transfer"]),
        crawler=crawler_settings(sections["crawler"], str(path)),
        ledger=ledger_settings(sections["ledger"], str(path)),
    )


def _transfer_decisions(home: Path, table: dict[str, Any]) -> str:
    value = _get(home, table, "provider_decisions", str, "auto")
    if value not in ("auto", "manual"):
        raise _bad(home, f'[transfer] provider_decisions must be "auto" or "manual", not {value!r}')
    return value


def _static_callers(home: Path, table: dict[str, Any]) -> tuple[StaticCaller, ...]:
    entries = _get(home, table, "static_callers", list, [])
    callers = []
    for entry in entries:
        if not (isinstance(entry, dict) and set(entry) == {"id", "token_file"}
                and all(isinstance(v, str) and v.strip() for v in entry.values())):
            raise _bad(home, '[auth] static_callers must be a list of {id = "...", token_file = "..."}')
        callers.append(StaticCaller(entry["id"], entry["token_file"]))
    if len({c.id for c in callers}) != len(callers):
        raise _bad(home, "[auth] static_callers names one id twice")
    return tuple(callers)


def _is_origin(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname) and parts.path in ("", "/")
            and not (parts.query or parts.fragment or parts.username))


def _decisions(home: Path, table: dict[str, Any]) -> dict[str, str]:
    decisions = {}
    for key in ("provider_decisions", "consumer_decisions"):
        value = _get(home, table, key, str, "auto")
        if value not in ("auto", "manual"):
            raise _bad(home, f'[negotiation] {key} must be "auto" or "manual", not {value!r}')
        decisions[key] = value
    return decisions


def _catalog(home: Path, table: dict[str, Any]) -> CatalogConfig:
    roots = _get(home, table, "publish_roots", list)
    if roots is not None and not all(isinstance(r, str) and r.strip() for r in roots):
        raise _bad(home, "[catalog] publish_roots must be a list of folder paths")
    max_upload = _get(home, table, "max_upload_bytes", int, CatalogConfig.max_upload_bytes)
    if max_upload < 1:
        raise _bad(home, "[catalog] max_upload_bytes must be at least 1")
    return CatalogConfig(tuple(roots) if roots is not None else None, max_upload)


def _sparql(home: Path, table: dict[str, Any]) -> SparqlConfig:
    d = SparqlConfig()
    values: dict[str, Any] = {}
    for who in ("anonymous", "member"):
        for key, least in ((f"{who}_running", 1), (f"{who}_waiting", 0)):
            values[key] = _get(home, table, key, int, getattr(d, key))
            if values[key] < least:
                raise _bad(home, f"[sparql] {key} must be at least {least}")
        key = f"{who}_timeout"
        seconds = table.get(key, getattr(d, key))
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 3600:
            raise _bad(home, f"[sparql] {key} must be a number of seconds from 0 to 3600, not {seconds!r}")
        values[key] = float(seconds)
    return SparqlConfig(**values)


def _compute(home: Path, table: dict[str, Any]) -> ComputeConfig:
    d = ComputeConfig()
    values = {
        "allow_unisolated": _get(home, table, "allow_unisolated", bool, d.allow_unisolated),
        "manual_release": _get(home, table, "manual_release", bool, d.manual_release),
    }
    for key in ("parallel", "cpu_seconds", "wall_seconds", "memory_bytes", "output_bytes"):
        value = _get(home, table, key, int, getattr(d, key))
        if value < 1:
            raise _bad(home, f"[compute] {key} must be at least 1")
        values[key] = value
    if values["parallel"] > 16:
        raise _bad(home, "[compute] parallel must be at most 16")
    return ComputeConfig(**values)


def save(config: NodeConfig) -> None:
    path = config.home / CONFIG_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(config.to_toml()))
    tmp.replace(path)


def write_secret(path: Path, text: str) -> None:
    """Create a secret file readable by its owner only (never widened later)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def read_token(home: Path) -> str:
    path = home / TOKEN_FILE
    try:
        if path.stat().st_mode & 0o077:
            raise ConnectorError(
                Reason.BAD_CONFIG, f"{path} is readable by others; run chmod 600 on it"
            )
        token = path.read_text().strip()
    except FileNotFoundError:
        raise ConnectorError(Reason.BAD_CONFIG, f"no management token at {path}") from None
    if len(token) < 32:
        raise ConnectorError(Reason.BAD_CONFIG, f"the management token in {path} is too short")
    return token
