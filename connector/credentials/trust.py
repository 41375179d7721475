"""The issuers whose credentials this node believes: itself, the trust anchors in its
communs.toml, and those of the ledger's registry when the node has a [ledger].

A node always trusts itself, so the membership credentials it issues count for its own
`members` datasets even with no anchor configured. The file is the one place anchors are
kept: `communs trust add|remove` edits it, and a serving node rereads it when it changes, so
a change applies to the next caller without a restart.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from connector.config import CONFIG_FILE, NodeConfig, load, save
from connector.errors import ConnectorError, Reason

log = logging.getLogger(__name__)
DID = re.compile(r"did:[a-z0-9]+:[A-Za-z0-9._:%-]+")
RECHECK_SECONDS = 1.0  # how stale a serving node's view of the file may be


class TrustAnchors:
    """The verifier's source of trusted issuers for the node of CONFIG, whose DID is OWN."""

    def __init__(self, config: NodeConfig, own: str, ledger: Any = None) -> None:
        self.home = config.home
        self.own = own
        self.ledger = ledger  # connector.ledger.service.LedgerService: its registry's anchors
        self._anchors = frozenset(config.trust_anchors)
        self._seen = self._stamp()
        self._checked = time.monotonic()

    async def trusted(self, issuer: str, types: Iterable[str] = ()) -> bool:
        """Whether ISSUER's credentials (of TYPES) are believed. A ledger anchor that lists
        credential types is believed for those types only."""
        if issuer == self.own or issuer in self._current():
            return True
        if self.ledger is None:
            return False
        anchor = await self.ledger.anchor_of(issuer)
        if anchor is None:
            return False
        listed = set(anchor.get("credential_types") or ())
        return not listed or bool(listed & set(types))

    def _current(self) -> frozenset[str]:
        now = time.monotonic()
        if now - self._checked >= RECHECK_SECONDS:
            self._checked = now
            stamp = self._stamp()
            if stamp != self._seen:
                self._seen = stamp
                try:
                    self._anchors = frozenset(load(self.home).trust_anchors)
                except ConnectorError as exc:  # a half-edited file: keep the anchors we had
                    log.warning("trust anchors unchanged: %s", exc)
        return self._anchors

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = (self.home / CONFIG_FILE).stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size


def add(home: Path, did: str, own: str) -> bool:
    """Trust DID as an issuer; False if it already was (the node itself always is)."""
    config = load(home)
    if not DID.fullmatch(did):
        raise ConnectorError(Reason.BAD_INPUT, f"{did!r} is not a DID (did:METHOD:ID)")
    if did == own or did in config.trust_anchors:
        return False
    save(dataclasses.replace(config, trust_anchors=(*config.trust_anchors, did)))
    return True


def remove(home: Path, did: str, own: str) -> None:
    config = load(home)
    if did == own:
        raise ConnectorError(Reason.BAD_INPUT, f"{did} is this node: a node always trusts itself")
    if did not in config.trust_anchors:
        raise ConnectorError(Reason.NOT_FOUND, f"{did} is not a trust anchor of this node")
    kept = tuple(a for a in config.trust_anchors if a != did)
    save(dataclasses.replace(config, trust_anchors=kept))
