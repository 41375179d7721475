"""What the node's features ask of the ledger: membership and trust anchors (proven), the
node's account, proposals and votes; `market.py` adds payments, listings and anchors. One
`LedgerService` per serving node, shared by the public and management apps and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from connector.config import NodeConfig
from connector.errors import ConnectorError, Reason
from connector.identity.base64url import decode as b64u_decode
from connector.identity.did import public_jwk_of_method
from connector.identity.keys import KeyStore
from connector.ledger.account import LedgerAccount, account_key
from connector.ledger.config import registry_issuer
from connector.ledger.market import Market
from connector.ledger.proven import ProvenLedger, load_genesis
from connector.ledger.registry import RegistryView
from connector.ledger.sdcheck import MemberCheck, check_member
from ledger import crypto
from ledger.app import address, bank
from ledger.app.gov import msgs as gmsgs
from ledger.app.gov.store import OPTIONS
from ledger.app.registry import msgs as rmsgs
from ledger.cli.txs import attribute

log = logging.getLogger("communs.ledger")
STALE_AFTER = 30.0  # seconds without an answer from the ledger before access fails closed
VOTE_ALIASES = {"veto": "no_with_veto", "no-with-veto": "no_with_veto"}
WHOLE_VOTE = 1_000_000  # a vote's weight when it is not split


@dataclass
class LedgerService:
    ledger: ProvenLedger
    registry: RegistryView
    account: LedgerAccount
    did: str
    poll_interval: float = 0.2
    problem: str | None = "not reached yet"  # why the last look failed; None once it answered
    metrics: Any = None  # connector.metrics.Metrics: the height it has reached
    resolver: Any = None  # connector.identity.resolver.DidResolver: accounts of non-members
    child: Any = None  # connector.ledger.child.LedgerChild when `serve` runs the ledger node
    session: Any = None  # aiohttp.ClientSession: fetches members' self-descriptions
    policy: Any = None  # connector.identity.addresses.AddressPolicy: where it may connect
    checks: dict[str, MemberCheck] = field(default_factory=dict)  # DID -> its last check
    followed_at: float | None = None  # monotonic time of the follower's last good round
    _tasks: list[asyncio.Task] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.market = Market(self)

    @property
    def chain_id(self) -> str:
        return self.ledger.chain_id

    @property
    def issuer(self) -> str:
        return registry_issuer(self.chain_id)

    @property
    def height(self) -> int:
        return self.ledger.height

    # ------------------------------------------------------------------ following the chain

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._follow(), name="ledger-follower"),
                       asyncio.create_task(self._check_members(), name="ledger-member-checks")]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.ledger.close()

    async def _check_members(self) -> None:
        """Each member, when first seen: its self-description against the registry."""
        while True:
            record = await self.registry.first_seen.get()
            if self.session is None or self.policy is None or record["did"] == self.did:
                continue
            try:
                self.checks[record["did"]] = await check_member(self.session, self.resolver,
                                                                self.policy, record)
            except Exception:  # noqa: BLE001 - one member's document must not stop the checks
                log.exception("the check of %s failed", record["did"])

    async def _follow(self) -> None:
        while True:
            try:
                height = await self.ledger.refresh()
                await self.registry.follow(height)
                self.followed_at = time.monotonic()
                if self.metrics is not None:
                    self.metrics.ledger_height.set(height)
                if self.problem is not None:
                    log.info("the ledger answers at height %d", height)
                self.problem = None
            except Exception as exc:  # noqa: BLE001 - the follower must outlive any one round
                said = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
                if said != self.problem:
                    log.warning("ledger: %s", said, exc_info=not isinstance(exc, ConnectorError))
                self.problem = said
            await asyncio.sleep(self.poll_interval)

    @property
    def stale(self) -> bool:
        """Whether the registry view is too old to decide access (the ledger did not answer
        for STALE_AFTER seconds): membership and trust then fail closed."""
        return self.followed_at is None or time.monotonic() - self.followed_at > STALE_AFTER

    # ------------------------------------------------------------------ membership and trust

    async def member_of(self, did: str) -> bool:
        """Whether DID is a registry member in good standing. A DID seen before is answered
        from the view the follower keeps at the latest block; when the ledger cannot prove it
        (or has not answered for a while), no: membership by credentials still counts."""
        try:
            return not self.stale and await self.registry.is_member(did)
        except ConnectorError as exc:
            log.warning("membership of %s not checked on the ledger: %s", did, exc)
            return False

    async def anchor_of(self, issuer: str) -> dict[str, Any] | None:
        """ISSUER's trust anchor on the ledger (None: none, or the ledger cannot say now)."""
        try:
            return None if self.stale else await self.registry.anchor(issuer)
        except ConnectorError as exc:
            log.warning("trust anchor %s not checked on the ledger: %s", issuer, exc)
            return None

    async def accounts_of(self, did: str) -> set[str]:
        """The ledger accounts that may pay for DID: its registry account, and the address of
        each Ed25519 key of its DID document (a DID and its account are the same key)."""
        found = set()
        record = await self.registry.member(did)
        if record is not None:
            found.add(record["account"])
        if self.resolver is not None:
            try:
                document = await self.resolver.resolve(did)
            except ConnectorError:
                return found
            for method in document.get("verificationMethod") or []:
                try:
                    jwk = public_jwk_of_method(method)
                except ConnectorError:
                    continue
                if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                    found.add(address.to_text(crypto.address(b64u_decode(jwk["x"]))))
        return found

    async def current_membership(self, did: str, claimed: Iterable[str]) -> tuple[str, ...]:
        """CLAIMED (the membership issuers verified when DID asked) without the registry when
        DID is no longer a member in good standing: a removal ends access already granted."""
        claimed = tuple(claimed)
        if self.issuer not in claimed or await self.member_of(did):
            return claimed
        return tuple(c for c in claimed if c != self.issuer)

    # ------------------------------------------------------------------ governance

    async def join(self, endpoint: str, sd_hash: str, deposit: int, title: str | None = None
                   ) -> dict[str, Any]:
        """Apply to the registry and propose that governance admits this node."""
        me = self.account.key.address
        digest = bytes.fromhex(sd_hash)
        admit = rmsgs.MsgRegisterMember(bank.module(bank.GOV), self.did, endpoint, digest, me)
        proposal = gmsgs.MsgSubmitProposal(
            me, (admit,), deposit, title or f"Admit {self.did}",
            f"{self.did} asks to join the federation, serving {endpoint}", "")
        messages: list[Any] = [proposal]
        if await self.registry.member(self.did) is None:
            messages.insert(0, rmsgs.MsgApply(me, self.did, endpoint, digest))
        committed = await self.account.submit(messages)
        return {"proposalId": attribute(committed, "submit_proposal", "proposal_id"),
                "height": committed["height"], "hash": committed.get("hash")}

    async def vote(self, proposal_id: int, option: str) -> dict[str, Any]:
        name = VOTE_ALIASES.get(option.lower(), option.lower())
        if name not in OPTIONS:
            raise ConnectorError(Reason.BAD_INPUT, f"{option[:32]!r} is not a vote: yes, no, "
                                                   f"abstain or veto")
        vote = gmsgs.MsgVote(proposal_id, self.account.key.address,
                             ((OPTIONS[name], WHOLE_VOTE),))
        committed = await self.account.submit([vote])
        return {"proposalId": proposal_id, "option": name, "height": committed["height"]}

    async def proposals(self) -> list[dict[str, Any]]:
        """Every proposal (a list: not provable), each with its current tally."""
        found = list((await self.ledger.unproven("/gov/proposals"))["proposals"])
        for p in found:
            p["tally"] = p.get("final_tally") or (
                await self.ledger.unproven("/gov/tally", str(p["id"]).encode())
                if p["status"] == "voting_period" else None)
        return found

    async def proposal(self, proposal_id: int) -> dict[str, Any]:
        answer = await self.ledger.read("/gov/proposal", str(proposal_id).encode())
        if answer.doc is None:
            raise ConnectorError(Reason.NOT_FOUND, f"the ledger has no proposal {proposal_id}")
        tally = await self.ledger.unproven("/gov/tally", str(proposal_id).encode())
        return {**answer.doc, "tally": tally, "height": answer.height}

    def health(self) -> str | None:
        """Why the node's ledger link is not healthy, None when it is."""
        if self.child is not None and not self.child.running:
            return "the ledger node this connector runs is not running"
        return None if self.problem is None else f"ledger: {self.problem}"

    async def anchor(self, kind: str, id_: str, height: int | None = None) -> dict[str, Any] | None:
        """The proven anchor of an agreement or a receipt, None when there is none."""
        return (await self.ledger.read("/market/anchor", f"{kind}/{id_}".encode(), height)).doc

    async def status(self) -> dict[str, Any]:
        mine = await self.registry.member(self.did) if self.problem is None else None
        balance = None
        if self.problem is None:
            balance = (await self.ledger.read("/bank/balance",
                                              self.account.address.encode())).doc["balance"]
        return {"chainId": self.chain_id, "rpcUrl": self.ledger.rpc_url, "height": self.height,
                "account": self.account.address, "balance": balance,
                "member": mine, "problem": self.problem}


@contextlib.asynccontextmanager
async def open_ledger(config: NodeConfig, keys: KeyStore, did: str, *, follow: bool = True,
                      metrics: Any = None) -> AsyncIterator[LedgerService]:
    """The ledger service of a node whose [ledger] is set; following the chain when FOLLOW."""
    settings = config.ledger
    if not settings.enabled:
        raise ConnectorError(Reason.BAD_CONFIG, f"{config.home} has no [ledger] in its "
                             f"communs.toml: set rpc_url and genesis (see the README)")
    assert settings.rpc_url and settings.genesis
    genesis = load_genesis(settings.path(config.home, settings.genesis))
    if settings.chain_id and settings.chain_id != genesis.chain_id:
        raise ConnectorError(Reason.BAD_CONFIG, f"[ledger] chain_id {settings.chain_id!r} is not "
                             f"the genesis's {genesis.chain_id!r}")
    ledger = ProvenLedger(settings.rpc_url, genesis, settings.timeout)
    service = LedgerService(ledger, RegistryView(ledger), LedgerAccount(ledger, account_key(keys)),
                            did, settings.poll_interval, metrics=metrics)
    try:
        if follow:
            await service.start()
        yield service
    finally:
        await service.close()


LEDGER = web.AppKey("ledger", LedgerService)
