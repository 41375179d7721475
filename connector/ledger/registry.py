"""The federation's members and trust anchors as the latest proven state of the registry says.

A DSP request must not wait for the ledger: the first time a DID is asked about, its record is
proven (a few milliseconds on loopback); from then on it is watched, re-proven at every new
block by the follower, and a request reads a dict. A member suspended or removed by vote is
therefore no longer one from the block after the vote; listeners hear of the change."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from connector.ledger.proven import ProvenLedger

log = logging.getLogger("communs.ledger")
ACTIVE = "member"
WATCHED_MAX = 1_000  # DIDs (and issuers) re-proven at each block
Listener = Callable[[str, dict[str, Any] | None], Awaitable[None]]  # (did, new record)


class RegistryView:
    def __init__(self, ledger: ProvenLedger) -> None:
        self.ledger = ledger
        self.height = 0  # the state the views below are of
        self._members: dict[str, dict[str, Any] | None] = {}  # DID -> record, None: none
        self._anchors: dict[str, dict[str, Any] | None] = {}  # issuer DID -> anchor, None: none
        self.listeners: list[Listener] = []  # told when a watched member's status changes
        self.first_seen: asyncio.Queue[dict[str, Any]] = asyncio.Queue()  # members to check
        self._seen: set[str] = set()  # the DIDs seen as members in good standing

    async def member(self, did: str) -> dict[str, Any] | None:
        if did not in self._members:
            _bound(self._members)
            self._members[did] = (await self.ledger.read("/registry/member", did.encode())).doc
            self._note(self._members[did])
        return self._members[did]

    def _note(self, record: dict[str, Any] | None) -> None:
        """Queue a member in good standing seen for the first time."""
        if record is not None and record.get("status") == ACTIVE and record["did"] not in self._seen:
            self._seen.add(record["did"])
            self.first_seen.put_nowait(record)

    async def is_member(self, did: str) -> bool:
        """A registry member in good standing."""
        record = await self.member(did)
        return record is not None and record.get("status") == ACTIVE

    async def anchor(self, issuer: str) -> dict[str, Any] | None:
        if issuer not in self._anchors:
            _bound(self._anchors)
            self._anchors[issuer] = (await self.ledger.read("/registry/anchor",
                                                            issuer.encode())).doc
        return self._anchors[issuer]

    async def follow(self, height: int) -> None:
        """Re-prove every watched record at HEIGHT and swap them in at once."""
        if height <= self.height:
            return
        members = dict(zip(self._members, await asyncio.gather(*(
            self.ledger.read("/registry/member", did.encode(), height)
            for did in self._members)), strict=True))
        anchors = dict(zip(self._anchors, await asyncio.gather(*(
            self.ledger.read("/registry/anchor", did.encode(), height)
            for did in self._anchors)), strict=True))
        changed = [did for did, a in members.items()
                   if _status(a.doc) != _status(self._members.get(did))]
        self._members = {did: a.doc for did, a in members.items()}
        self._anchors = {did: a.doc for did, a in anchors.items()}
        self.height = height
        for did in changed:
            log.info("registry: %s is now %s (height %d)", did,
                     _status(self._members[did]) or "not registered", height)
            self._note(self._members[did])
            for listener in self.listeners:
                try:
                    await listener(did, self._members[did])
                except Exception:  # noqa: BLE001 - one listener must not keep the others from hearing
                    log.exception("a listener of the registry failed on %s", did)


def _status(record: dict[str, Any] | None) -> str | None:
    return None if record is None else record.get("status")


def _bound(watched: dict[str, Any]) -> None:
    """Keep at most WATCHED_MAX records: the oldest asked about go (asked again, re-proven)."""
    while len(watched) >= WATCHED_MAX:
        del watched[next(iter(watched))]
