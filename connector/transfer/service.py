"""Transfer use cases for both roles, shared by the DSP routes, the data plane, the manager,
the management API and the CLI.

Persist, then act: each step is saved with the message it sends, the tokens it mints and the
tokens it revokes, in one transaction; the manager sends. The provider decides by itself: a
request naming a FINALIZED agreement of the caller starts when the agreement's policy allows
an access now (otherwise it ends, with the reason); a PULL start carries a fresh access token
and a refresh token; a suspension revokes the access tokens, a completion or termination every
token of the transfer.

Every address a counterparty gives is checked before anything is stored (`Callbacks`): the
request's callback must be the caller's, a PUSH endpoint an address the node may reach, a
PULL data address an http(s) URL (the CLI that pulls checks it against the policy).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import aiohttp

from connector.auth.caller import Caller
from connector.catalog.client import dsp_base
from connector.errors import ConnectorError
from connector.errors import Reason as Err
from connector.identity.addresses import AddressRefused, syntax_problem
from connector.identity.callbacks import Callbacks
from connector.identity.did import Signer
from connector.ledger.market import UCOM, price_of
from connector.negotiation.model import Role
from connector.negotiation.service import membership_issuers
from connector.storage.sender import Handoff
from connector.transfer import codec, usage
from connector.transfer.model import (
    FORMATS,
    PULL,
    PUSH,
    AlreadyApplied,
    Applied,
    Message,
    MessageKind,
    Reason,
    Refused,
    State,
    TransferProcess,
    act,
    bind_provider_pid,
    receive,
    start,
)
from connector.transfer.store import OutboxMessage, Token, TokenKind, TransferStore
from policies.operands import Payment

CALLBACK = "/callback"
DATA_PATH = "/data"  # the PULL data plane on the public app: /data/{transfer id}
_SUFFIX = {MessageKind.START: "start", MessageKind.SUSPENSION: "suspension",
           MessageKind.COMPLETION: "completion", MessageKind.TERMINATION: "termination"}
_ALL = (TokenKind.ACCESS, TokenKind.REFRESH)
ACCESS_SLOT, REFRESH_SLOT = "(access token)", "(refresh token)"  # filled in when sent


class TransferError(Exception):
    """A DSP fault: `status` 400 (bad message or transition), 404 (no such process), 409."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def now() -> datetime:
    return datetime.now(UTC)


def new_pid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def summary(p: TransferProcess) -> dict[str, Any]:
    """A transfer as the management API shows it (the consumer's PULL address included: the
    management API is the owner's)."""
    return {
        "id": p.id, "role": p.role.value, "state": p.state.value, "consumerPid": p.consumer_pid,
        "providerPid": p.provider_pid, "counterparty": p.counterparty_did,
        "counterpartyAddress": p.counterparty_address, "agreementId": p.agreement_id,
        "datasetId": p.dataset_id, "format": p.format, "purpose": p.purpose, "reason": p.reason,
        "dataAddress": p.data_address if p.role is Role.CONSUMER else None,
        "createdAt": p.created_at.isoformat(), "updatedAt": p.updated_at.isoformat(),
    }


@dataclass
class TransferService:
    store: TransferStore
    did: str
    dsp_url: str  # our public DSP base, e.g. http://host:port/dsp
    public_url: str  # our public origin: the data plane lives at {public_url}/data
    signer: Signer
    session: aiohttp.ClientSession
    negotiations: Any  # connector.negotiation.service.NegotiationService
    catalog: Any = None  # connector.catalog.service.CatalogService (provider side)
    manual: bool = False  # the provider's operator starts each request (else: automatic)
    handoff: Handoff = field(default_factory=Handoff)  # what we save goes to our sender at once
    callbacks: Callbacks | None = None  # where a counterparty may have us send (None: as negotiations)
    ledger: Any = None  # connector.ledger.service.LedgerService: membership now, payments

    def __post_init__(self) -> None:
        self.callbacks = self.callbacks or self.negotiations.callbacks

    # ---- outbox -------------------------------------------------------------------------

    def _recipient(self, p: TransferProcess, kind: MessageKind) -> str:
        base = (p.counterparty_address or "").rstrip("/")
        if kind is MessageKind.REQUEST:
            return f"{base}/transfers/request"
        their = p.provider_pid if p.role is Role.CONSUMER else p.consumer_pid
        return f"{base}/transfers/{their}/{_SUFFIX[kind]}"

    def _outbox(self, p: TransferProcess, kind: MessageKind, *, reason: str | None = None,
                data_address: dict[str, Any] | None = None, message_id: str | None = None) -> OutboxMessage:
        payload = codec.encode(kind, p, callback=f"{self.dsp_url}{CALLBACK}", data_address=data_address,
                               reason=reason)
        moment = now()
        return OutboxMessage(id=message_id or str(uuid.uuid4()), transfer_id=p.id, kind=kind,
                             recipient=self._recipient(p, kind), payload=payload,
                             created_at=moment, next_attempt_at=moment)

    @cached_property
    def token_key(self) -> bytes:
        return usage.token_key(self.signer.key.private_jwk())

    def reveal(self, message: OutboxMessage) -> dict[str, Any]:
        """The body to send: a PULL start's token slots filled with the secrets of its id."""
        address = message.payload.get("dataAddress")
        if message.kind is not MessageKind.START or not isinstance(address, dict):
            return message.payload
        access, refresh = usage.secrets_for(self.token_key, message.id)
        slots = {ACCESS_SLOT: access, REFRESH_SLOT: refresh}
        filled = [{**item, "value": slots.get(item.get("value"), item.get("value"))}
                  for item in address.get("endpointProperties", []) if isinstance(item, dict)]
        return {**message.payload, "dataAddress": {**address, "endpointProperties": filled}}

    def pull_address(self, p: TransferProcess, access: str, refresh: str) -> dict[str, Any]:
        endpoint = f"{self.public_url}{DATA_PATH}/{p.id}"
        return codec.data_address(endpoint, {
            "authorization": access, "authType": "bearer",
            "expiresIn": str(int(usage.ACCESS_TTL.total_seconds())),
            "refreshEndpoint": f"{endpoint}/token", "refreshToken": refresh,
        })

    # ---- our own steps ------------------------------------------------------------------

    async def step(self, p: TransferProcess, kind: MessageKind, *, reason: str | None = None,
                   send: bool = True) -> TransferProcess:
        """Take our step KIND on P and queue its message; TransferError if not allowed now."""
        tokens: list[Token] = []
        address = None
        message_id = str(uuid.uuid4())
        if kind is MessageKind.START and p.role is Role.PROVIDER and p.format == PULL:
            # only the hashes are stored; the sender derives the secrets again from the id
            _, _, tokens = usage.mint(p, now(), self.token_key, message_id)
            address = self.pull_address(p, ACCESS_SLOT, REFRESH_SLOT)
        outcome = act(p, kind, now=now(), reason=reason)
        if isinstance(outcome, Refused):
            raise TransferError(400, outcome.detail)
        if isinstance(outcome, AlreadyApplied):
            return outcome.process
        nxt = outcome.process
        outbox = []
        if send and (nxt.counterparty_pid or kind is MessageKind.REQUEST):
            outbox = self.handoff.leased([self._outbox(nxt, kind, reason=reason, data_address=address,
                                                       message_id=message_id)])
        revoke = _ALL if tokens else self._revoked(nxt)  # a (re)start replaces every older token
        if not await self.store.save(nxt, outbox, tokens, revoke):
            raise TransferError(409, "the transfer changed meanwhile; try again")
        self.handoff.hand_over(outbox)
        return nxt

    @staticmethod
    def _revoked(p: TransferProcess) -> tuple[str, ...]:
        if p.role is not Role.PROVIDER:
            return ()
        if p.state is State.SUSPENDED:
            return (TokenKind.ACCESS,)  # the refresh token lets the consumer go on once resumed
        return _ALL if p.state.final else ()

    async def request(self, provider_url: str | None, agreement_id: str, format: str = PULL,
                      data_address: dict[str, Any] | None = None, purpose: str | None = None,
                      *, dsp_address: str | None = None) -> TransferProcess:
        """The consumer asks the provider of AGREEMENT_ID for a transfer (at PROVIDER_URL, found
        through its dspace-version; at DSP_ADDRESS, its DSP base itself; else where it agreed)."""
        if format not in FORMATS:
            raise ConnectorError(Err.BAD_INPUT, f"format must be one of {', '.join(FORMATS)}")
        if format == PUSH and not (data_address or {}).get("endpoint"):
            raise ConnectorError(Err.BAD_INPUT, "a PUSH transfer needs a dataAddress with an endpoint")
        if data_address is not None and codec.problems("TransferRequestMessage", {
                "@context": [codec.DSP_CONTEXT], "@type": "TransferRequestMessage", "agreementId": "x",
                "format": format, "callbackAddress": "x", "consumerPid": "x", "dataAddress": data_address}):
            raise ConnectorError(Err.BAD_INPUT, "dataAddress is not a DSP DataAddress")
        n = await self.negotiations.finalized(agreement_id)
        if n is None or n.role is not Role.CONSUMER:
            raise ConnectorError(Err.NOT_FOUND, f"no FINALIZED agreement {agreement_id} of ours as consumer")
        base = (dsp_address.rstrip("/") if dsp_address
                else await dsp_base(self.session, provider_url) if provider_url else n.counterparty_address)
        if not base:
            raise ConnectorError(Err.BAD_INPUT, "the provider's DSP address is unknown; give its URL")
        price = price_of(n.agreement or {})
        if price is not None and self.ledger is not None:  # a paid use: pay before asking
            await self.ledger.market.pay(agreement_id, n.dataset_id or "", price)
        p = start(new_id=new_pid(), counterparty_did=n.counterparty_did, counterparty_address=base,
                  agreement_id=agreement_id, dataset_id=n.dataset_id, format=format,
                  data_address=data_address, now=now(), purpose=purpose)
        outbox = self.handoff.leased([self._outbox(p, MessageKind.REQUEST)])
        await self.store.create(p, outbox)
        self.handoff.hand_over(outbox)
        return p

    async def owned(self, transfer_id: str) -> TransferProcess:
        p = await self.store.get(transfer_id)
        if p is None:
            raise ConnectorError(Err.NOT_FOUND, f"no transfer {transfer_id}")
        return p

    async def command(self, transfer_id: str, kind: MessageKind, reason: str | None = None) -> TransferProcess:
        """The owner's start (a provider's REQUESTED one) or resume (one we SUSPENDED),
        suspend, complete or terminate."""
        p = await self.owned(transfer_id)
        if kind is MessageKind.START and p.role is Role.PROVIDER and p.state is not State.SUSPENDED:
            if refusal := await self.refusal(p):
                raise ConnectorError(Err.FORBIDDEN, refusal)
        try:
            return await self.step(p, kind, reason=reason)
        except TransferError as exc:
            raise ConnectorError(Err.CONFLICT if exc.status == 409 else Err.BAD_INPUT, str(exc)) from None

    # ---- inbound ------------------------------------------------------------------------

    async def get_for(self, pid: str, caller: Caller, role: Role) -> TransferProcess:
        p = await self.store.get(pid)
        if p is None or p.counterparty_did != caller.did or p.role is not role:
            raise TransferError(404, "no such transfer process")  # never reveal others'
        return p

    async def receive(self, receiver: Role, pid: str | None, message: Message,
                      caller: Caller) -> tuple[int, TransferProcess]:
        """Apply an inbound MESSAGE for our process PID (None: a request): 201 for a new
        process, 200 for a step or a replay; TransferError otherwise."""
        await self._check_addresses(receiver, message, caller)
        dataset_id = None
        if pid is not None:
            current: TransferProcess | None = await self.get_for(pid, caller, receiver)
        else:
            current = await self.store.find(receiver, message.consumer_pid or "", caller.did)
            if current is None:
                dataset_id = await self._check_request(message, caller)
        before = current
        outcome = receive(current, receiver, message, caller.did, now=now(), new_id=new_pid(),
                          dataset_id=dataset_id)
        if isinstance(outcome, Refused):
            raise TransferError(404 if outcome.reason is Reason.UNKNOWN_PROCESS else 400, outcome.detail)
        if isinstance(outcome, AlreadyApplied):
            return 200, outcome.process
        p = outcome.process
        if receiver is Role.PROVIDER and message.kind in (MessageKind.REQUEST, MessageKind.START):
            p = replace(p, membership=tuple(sorted(membership_issuers(caller))))
        if receiver is Role.PROVIDER and message.kind is MessageKind.START:
            refusal = await self.refusal(p)  # the consumer resumes: the policy must still allow it
            if refusal:
                raise TransferError(400, refusal)
        if before is None:
            if not await self.store.create(p):
                raise TransferError(409, "this transfer is being opened concurrently")
            return 201, await self.decide(p)
        if not await self.store.save(p, revoke=self._revoked(p)):
            raise TransferError(409, "the transfer changed meanwhile; send it again")
        return 200, p

    async def _check_addresses(self, receiver: Role, message: Message, caller: Caller) -> None:
        """TransferError(400) unless every address in MESSAGE is one we may be sent to: a
        request's callback (the caller's own) and a PUSH request's endpoint, which this node
        will reach; a start's PULL data address, which our CLI reaches (and checks) later,
        must at least be an http(s) URL."""
        found: list[tuple[str, Any, str | None]] = []  # (field, URL, the DID it must belong to)
        if message.kind is MessageKind.REQUEST and receiver is Role.PROVIDER:
            found.append(("callbackAddress", message.callback_address, caller.did))
        address = message.data_address if isinstance(message.data_address, dict) else None
        if address is not None and message.kind is MessageKind.REQUEST and message.format == PUSH:
            found.append(("dataAddress endpoint", address.get("endpoint"), None))
        for name, url, owner in found:
            try:
                if owner is None:
                    await self.callbacks.target(url)
                else:
                    await self.callbacks.callback(url, owner)
            except AddressRefused as exc:
                raise TransferError(400, f"{name}: {exc}") from None
        if address is not None and message.kind is MessageKind.START:
            for name, url in (("endpoint", address.get("endpoint")),
                              ("refreshEndpoint", codec.properties(address).get("refreshEndpoint"))):
                if (url is not None or name == "endpoint") and (problem := syntax_problem(url)):
                    raise TransferError(400, f"dataAddress {name}: {problem}")

    async def _check_request(self, message: Message, caller: Caller) -> str | None:
        """The dataset of a valid request: our FINALIZED agreement with the caller, a format
        we serve, and for PUSH somewhere to push to."""
        if message.kind is not MessageKind.REQUEST:
            return None
        if message.format not in FORMATS:
            raise TransferError(400, f"unsupported format {message.format!r}; we serve {', '.join(FORMATS)}")
        if message.format == PUSH and not (message.data_address or {}).get("endpoint"):
            raise TransferError(400, "a PUSH transfer needs a dataAddress with an endpoint")
        n = await self.negotiations.finalized(message.agreement_id or "", caller.did)
        if n is None or n.role is not Role.PROVIDER:
            raise TransferError(400, "no FINALIZED agreement with you has that agreementId")
        target = (n.agreement or {}).get("target")  # what was signed, over the negotiation's record
        return target if isinstance(target, str) else n.dataset_id

    async def decide(self, p: TransferProcess) -> TransferProcess:
        """The provider's automatic answer to a new request: start it, or end it with why."""
        if p.role is not Role.PROVIDER or p.state is not State.REQUESTED or self.manual:
            return p
        refusal = await self.refusal(p)
        if refusal is None and await self.source(p) is None:
            refusal = "the dataset has no distribution we can serve"
        if refusal:
            return await self.step(p, MessageKind.TERMINATION, reason=refusal)
        return await self.step(p, MessageKind.START)

    # ---- usage enforcement --------------------------------------------------------------

    async def agreement(self, p: TransferProcess) -> dict[str, Any] | None:
        n = await self.negotiations.finalized(p.agreement_id, p.counterparty_did)
        return n.agreement if n is not None and n.agreement else None

    async def refusal(self, p: TransferProcess, uses: int | None = None, *, expiry_only: bool = False) -> str | None:
        """Why P's agreement does not allow an access now (None: it does). `expiry_only`
        ignores the count, for the monitor: only time ends a transfer by itself."""
        agreement = await self.agreement(p)
        if agreement is None:
            return "the agreement is no longer FINALIZED"
        if uses is None:
            uses = 0 if expiry_only else await self.store.uses(p.agreement_id)
        membership, payment = p.membership, None
        if self.ledger is not None:
            membership = await self.ledger.current_membership(p.counterparty_did, membership)
            price = price_of(agreement)
            if price is not None:  # each use is paid on the ledger first (the monitor: paid)
                if not expiry_only and (why := await self.ledger.market.payment_refusal(
                        p.agreement_id, p.dataset_id or "", p.counterparty_did, price, uses)):
                    return why
                payment = Payment(Decimal(price), UCOM)
        return usage.refusal(agreement, now=now(), requester=p.counterparty_did, uses=uses,
                             purpose=p.purpose, membership=membership, payment=payment)

    async def source(self, p: TransferProcess) -> Any:
        """The distribution we serve for P: (path, None) for our file, (None, url) for a remote
        source, or None."""
        if self.catalog is None or not p.dataset_id:
            return None
        found = await self.catalog.store.get_by_iri(p.dataset_id) or await self.catalog.store.get(p.dataset_id)
        for d in found.distributions if found else ():
            if d.file:
                return self.catalog.data_dir / d.file, None
            if d.access_url or d.download_url:
                return None, d.download_url or d.access_url
        return None

    # ---- pid binding --------------------------------------------------------------------

    async def bind(self, transfer_id: str, body: Any) -> None:
        if not isinstance(body, dict) or codec.problems("TransferProcess", body):
            return
        for _ in range(3):
            p = await self.store.get(transfer_id)
            if p is None:
                return
            outcome = bind_provider_pid(p, body["providerPid"])
            if not isinstance(outcome, Applied) or await self.store.save(outcome.process):
                return

    async def fail(self, transfer_id: str, reason: str) -> None:
        """The counterparty refused our message for good: end the process locally."""
        p = await self.store.get(transfer_id)
        if p is not None and not p.state.final:
            outcome = act(p, MessageKind.TERMINATION, now=now(), reason=reason)
            if isinstance(outcome, Applied):
                await self.store.save(outcome.process, revoke=self._revoked(outcome.process))
