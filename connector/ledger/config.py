"""The `[ledger]` table of communs.toml: which ledger node the connector reads and writes
through, the genesis its light client trusts, and the ledger node `communs serve` runs beside it.

    [ledger]
    rpc_url = "http://127.0.0.1:8281"     # any member's ledger RPC: answers are proven, not believed
    genesis = "../validator/genesis.json" # the trust root (relative to the node's folder)
    node = "../validator"                 # optional: run this ledger node as a child of `serve`
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from connector.errors import ConnectorError, Reason

SECTION = "ledger"


@dataclass(frozen=True)
class LedgerConfig:
    rpc_url: str | None = None  # a ledger node's JSON-RPC (ours or CometBFT: the same shapes)
    genesis: str | None = None  # its genesis.json: the validator set the light client trusts
    chain_id: str | None = None  # checked against the genesis when given
    node: str | None = None  # a ledger node folder that `communs serve` runs and stops with it
    poll_interval: float = 0.2  # seconds between looks at the latest height
    timeout: float = 10.0  # one RPC request

    @property
    def enabled(self) -> bool:
        return self.rpc_url is not None

    def path(self, home: Path, value: str) -> Path:
        return (home / value).resolve()

    def to_toml(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != f.default}


def _bad(where: str, what: str) -> ConnectorError:
    return ConnectorError(Reason.BAD_CONFIG, f"{where}: [ledger] {what}")


def from_table(table: Any, where: str) -> LedgerConfig:
    """The settings of a [ledger] table; a clear error naming the key that is wrong."""
    if not isinstance(table, dict):
        raise _bad(where, "must be a table")
    known = {f.name for f in fields(LedgerConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise _bad(where, f"has unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for key in ("rpc_url", "genesis", "chain_id", "node"):
        if key in table:
            v = table[key]
            if not isinstance(v, str) or not v.strip():
                raise _bad(where, f"{key} must be a non-empty string")
            values[key] = v.strip()
    for key, top in (("poll_interval", 60.0), ("timeout", 300.0)):
        if key in table:
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= top:
                raise _bad(where, f"{key} must be a number of seconds above 0, at most {top:g}")
            values[key] = float(v)
    config = LedgerConfig(**values)
    if config.rpc_url is not None and not config.rpc_url.startswith(("http://", "https://")):
        raise _bad(where, f"rpc_url must be an http(s) URL, not {config.rpc_url[:80]!r}")
    if config.rpc_url and not config.genesis:
        raise _bad(where, "rpc_url needs genesis, the ledger's genesis.json: the node believes "
                          "only answers proven against the validators it names")
    if (config.genesis or config.node) and not config.rpc_url:
        raise _bad(where, "genesis and node need rpc_url, the ledger node's RPC address")
    return config


def registry_issuer(chain_id: str) -> str:
    """The name the ODRL `membership` claim gives to membership by the ledger's registry."""
    return f"urn:communs:registry:{chain_id}"


def membership_issuer(home: Path, config: LedgerConfig) -> str | None:
    """The registry issuer of the node in HOME, None without a [ledger]."""
    if not config.genesis:
        return None
    path = config.path(home, config.genesis)
    try:
        chain_id = json.loads(path.read_text())["chain_id"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ConnectorError(Reason.BAD_CONFIG, f"[ledger] genesis {path} is not a readable "
                                                f"ledger genesis") from None
    return registry_issuer(str(chain_id))
