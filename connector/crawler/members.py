"""The federation's members, from the ledger's registry.

A list cannot be proven (the light client verifies single-key answers only), so the crawler
lists `/registry/members` at one height, then, when it has the genesis, asks for each member
alone at that same height and verifies that answer against the chain's signed headers: a
ledger node that lies about a member's endpoint or self-description digest is caught. Only
members in good standing ("member") are crawled; the others lose their graphs."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.errors import ConnectorError, Reason
from ledger.consensus.views import genesis_from_json
from ledger.errors import LedgerError
from ledger.light import LightClient
from ledger.rpc import RpcClient
from ledger.types import Genesis

ACTIVE = "member"


@dataclass(frozen=True)
class MemberRecord:
    did: str
    endpoint: str
    sd_hash: str  # hex SHA-256 of the claims (connector/selfdescription/digest.py)
    status: str
    verified: bool  # proven against the signed headers from the genesis


@dataclass(frozen=True)
class Registry:
    height: int
    members: tuple[MemberRecord, ...]

    @property
    def active(self) -> tuple[MemberRecord, ...]:
        return tuple(m for m in self.members if m.status == ACTIVE)


def load_genesis(path: Path) -> Genesis:
    try:
        return genesis_from_json(json.loads(path.read_text()))
    except OSError as exc:
        raise ConnectorError(Reason.BAD_CONFIG, f"cannot read the genesis {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConnectorError(Reason.BAD_CONFIG, f"{path} is not a ledger genesis ({exc})") from None


def _record(doc: Any, verified: bool) -> MemberRecord:
    try:
        return MemberRecord(str(doc["did"]), str(doc["endpoint"]), str(doc["sd_hash"]),
                            str(doc["status"]), verified)
    except (KeyError, TypeError):
        raise ConnectorError(Reason.BAD_INPUT, "the ledger answered a malformed member record") from None


async def _query(client: RpcClient, path: str, data: bytes, height: int | None) -> tuple[bytes, int]:
    r = await client.query(path, data, height)
    if r["code"] != 0:
        raise ConnectorError(Reason.BAD_INPUT, f"the ledger refused {path}: {r['log'][:200]}")
    return base64.b64decode(r["value"] or ""), r["height"]


async def read_registry(rpc_url: str, genesis: Genesis | None = None, *,
                        timeout: float = 20.0) -> Registry:
    """Every registry member at the latest height; each one verified when GENESIS is given."""
    try:
        async with RpcClient(rpc_url, timeout=timeout) as client:
            raw, height = await _query(client, "/registry/members", b"", None)
            try:
                listed = json.loads(raw)["members"]
                assert isinstance(listed, list)
            except (ValueError, KeyError, TypeError, AssertionError):
                raise ConnectorError(Reason.BAD_INPUT, "the ledger answered a malformed member list") from None
            if genesis is None:
                return Registry(height, tuple(_record(m, False) for m in listed))
            light = LightClient(client, genesis)
            records = []
            for entry in listed:
                did = str(entry.get("did", "")) if isinstance(entry, dict) else ""
                one, _ = await _query(client, "/registry/member", did.encode(), height)
                await light.verify("/registry/member", did.encode(), height, one)
                records.append(_record(json.loads(one), True))
            return Registry(height, tuple(records))
    except LedgerError as exc:
        raise ConnectorError(Reason.BAD_INPUT, f"cannot read the registry from {rpc_url}: {exc}") from None
