"""Negotiation use cases for both roles, shared by the DSP routes, the manager, the management
API and the CLI.

Persist, then act: every step is saved together with the message it must send (the outbox),
and an inbound message is saved together with our automatic answer to it, so a crash never
leaves a decision half taken; the manager sends what was saved.

Automatic decisions, per role unless the operator takes them (`manual`): the provider agrees
to a request that matches an offer of the dataset the caller may have (ODRL evaluation of the
caller's verified claims), counter-offers such an offer once to an opening request that does
not match, and terminates otherwise with the reason; it agrees to an accepted offer and
finalizes a verified agreement. The consumer accepts an offer with the terms it asked for
(any other ends the negotiation) and verifies an agreement that fits what it asked for: its
assigner's signature when it has one (ours do), else the provider's DCP token alone.

A counterparty's callbackAddress is checked before anything is stored (`Callbacks`): it must
be the caller's own and an address this node may reach.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import aiohttp

from connector import strictjson
from connector.answers import sentence
from connector.auth.caller import MEMBERSHIP, Caller
from connector.auth.client import did_of_endpoint, dsp_request
from connector.catalog.client import dsp_base
from connector.errors import ConnectorError
from connector.errors import Reason as Err
from connector.identity.addresses import AddressRefused
from connector.identity.callbacks import Callbacks
from connector.identity.did import Signer
from connector.identity.jose import decode_parts, sign_jwt
from connector.identity.keys import jwk_alg, verify_signature
from connector.identity.verification import did_of
from connector.negotiation import codec
from connector.negotiation.model import (
    AlreadyApplied,
    Applied,
    ContractNegotiation,
    Message,
    MessageKind,
    Reason,
    Refused,
    Role,
    State,
    act,
    bind_counterparty_pid,
    receive,
    start,
)
from connector.negotiation.store import NegotiationStore, OutboxMessage
from connector.storage.sender import Handoff
from policies.evaluate import Request, evaluate
from policies.matching import equivalent, matches
from policies.operands import Context, Scope
from policies.parse import parse_policy
from policies.serialize import DEFAULT_CONTEXT

CALLBACK = "/callback"  # the consumer's callbacks live under {dsp}/callback


# Where it is our turn to speak, and the step that says yes there (`agree`)
OUR_TURN: dict[tuple[Role, State], MessageKind] = {
    (Role.PROVIDER, State.REQUESTED): MessageKind.CONTRACT_AGREEMENT,
    (Role.PROVIDER, State.ACCEPTED): MessageKind.CONTRACT_AGREEMENT,
    (Role.PROVIDER, State.VERIFIED): MessageKind.EVENT_FINALIZED,
    (Role.CONSUMER, State.OFFERED): MessageKind.EVENT_ACCEPTED,
    (Role.CONSUMER, State.AGREED): MessageKind.AGREEMENT_VERIFICATION,
}


@dataclass(frozen=True)
class Step:
    """One of our own messages, with what it carries."""

    kind: MessageKind
    reason: str | None = None  # a termination's
    offer: dict[str, Any] | None = None  # an offer's or a counter-request's terms
    agreement: dict[str, Any] | None = None


class NegotiationError(Exception):
    """A DSP fault: `status` 400 (bad message or transition) or 404 (no such process)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Stale(NegotiationError):
    """A compare-and-set lost to another write."""


def now() -> datetime:
    return datetime.now(UTC)


def new_pid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def summary(n: ContractNegotiation) -> dict[str, Any]:
    """A negotiation as the management API shows it."""
    agreement = n.agreement or {}
    return {
        "id": n.id,
        "role": n.role.value,
        "state": n.state.value,
        "consumerPid": n.consumer_pid,
        "providerPid": n.provider_pid,
        "counterparty": n.counterparty_did,
        "counterpartyAddress": n.counterparty_address,
        "datasetId": n.dataset_id,
        "offer": n.offer,
        "agreement": {k: v for k, v in agreement.items() if k != codec.SIGNATURE} or None,
        "agreementId": agreement.get("@id") if n.state in (State.AGREED, State.VERIFIED, State.FINALIZED) else None,
        "agreementAuthentication": authentication(n),
        "createdAt": n.created_at.isoformat(),
        "updatedAt": n.updated_at.isoformat(),
    }


SIGNED = "signature"  # the agreement carries the assigner's JWS, verified on receipt
TOKEN_ONLY = "caller-token"  # unsigned: only the provider's DCP token vouched for the message


def authentication(n: ContractNegotiation) -> str | None:
    """What vouches for N's agreement: the stored agreement keeps the signature it came with
    (ours as provider, the provider's verified one as consumer); None before an agreement."""
    if n.agreement is None:
        return None
    return SIGNED if isinstance(n.agreement.get(codec.SIGNATURE), str) else TOKEN_ONLY


def _policy(doc: dict[str, Any]) -> Any:
    body = {k: v for k, v in doc.items() if k not in (codec.SIGNATURE, "@context")}
    return _parsed(json.dumps(body, sort_keys=True))


@lru_cache(maxsize=1024)
def _parsed(body: str) -> Any:
    """A policy parsed once (JSON-LD expansion costs milliseconds; offers repeat, and the
    parsed policy is immutable)."""
    return parse_policy({"@context": DEFAULT_CONTEXT, **json.loads(body)})


def named_provider(dataset: dict[str, Any], offer: dict[str, Any]) -> str | None:
    """The provider's DID as its dataset names it (`dct:publisher`) or its offer (`assigner`)."""
    for value in (dataset.get("dct:publisher"), dataset.get("publisher"), offer.get("assigner")):
        value = value.get("@id") if isinstance(value, dict) else value
        if isinstance(value, str) and value.startswith("did:"):
            return value
    return None


def membership_issuers(caller: Caller) -> frozenset[str]:
    """The trust anchors that made CALLER a member (the `membership` claim of our ODRL profile)."""
    return caller.issuers(MEMBERSHIP)


@dataclass
class NegotiationService:
    store: NegotiationStore
    did: str
    dsp_url: str  # our public DSP base, e.g. http://host:port/dsp
    signer: Signer
    session: aiohttp.ClientSession
    resolver: Any  # connector.identity.resolver.DidResolver
    catalog: Any = None  # connector.catalog.service.CatalogService, for provider decisions
    manual: frozenset[Role] = frozenset()  # roles in which the operator takes every decision
    handoff: Handoff = field(default_factory=Handoff)  # what we save goes to our sender at once
    # where a counterparty may have us send (None: the resolver's policy, no origin allowed)
    callbacks: Callbacks | None = None

    def __post_init__(self) -> None:
        self.callbacks = self.callbacks or Callbacks(self.resolver)

    # ---- outbox -----------------------------------------------------------------------

    def _recipient(self, n: ContractNegotiation, kind: MessageKind) -> str:
        base = (n.counterparty_address or "").rstrip("/")
        if n.role is Role.CONSUMER:
            if kind is MessageKind.CONTRACT_REQUEST and n.provider_pid is None:
                return f"{base}/negotiations/request"
            suffix = {
                MessageKind.CONTRACT_REQUEST: "request",
                MessageKind.EVENT_ACCEPTED: "events",
                MessageKind.AGREEMENT_VERIFICATION: "agreement/verification",
                MessageKind.TERMINATION: "termination",
            }[kind]
            return f"{base}/negotiations/{n.provider_pid}/{suffix}"
        suffix = {
            MessageKind.CONTRACT_OFFER: "offers",
            MessageKind.CONTRACT_AGREEMENT: "agreement",
            MessageKind.EVENT_FINALIZED: "events",
            MessageKind.TERMINATION: "termination",
        }[kind]
        if kind is MessageKind.CONTRACT_OFFER and n.consumer_pid is None:
            return f"{base}/negotiations/offers"
        return f"{base}/negotiations/{n.consumer_pid}/{suffix}"

    def _outbox(self, n: ContractNegotiation, kind: MessageKind, reason: str | None = None,
                callback: bool = False) -> OutboxMessage:
        message = Message(
            kind, n.consumer_pid, n.provider_pid,
            offer=n.offer if kind in (MessageKind.CONTRACT_REQUEST, MessageKind.CONTRACT_OFFER) else None,
            agreement=n.agreement if kind is MessageKind.CONTRACT_AGREEMENT else None,
            callback_address=f"{self.dsp_url}{CALLBACK}" if callback else None,
        )
        moment = now()
        return OutboxMessage(
            id=str(uuid.uuid4()), negotiation_id=n.id, kind=kind,
            recipient=self._recipient(n, kind), payload=codec.encode(message, reason),
            created_at=moment, next_attempt_at=moment, audience=n.counterparty_did,
        )

    # ---- our own steps ----------------------------------------------------------------

    def _prepare(self, n: ContractNegotiation, step: Step) -> tuple[ContractNegotiation, list[OutboxMessage]]:
        """N after our STEP and the message to send; NegotiationError if not allowed now."""
        outcome = act(n, step.kind, now=now(), offer=step.offer, agreement=step.agreement)
        if isinstance(outcome, Refused):
            raise NegotiationError(400, outcome.detail)
        if isinstance(outcome, AlreadyApplied):
            return outcome.negotiation, []
        nxt = outcome.negotiation
        # a counterparty that never answered our opening message has nowhere to be told
        return nxt, [self._outbox(nxt, step.kind, step.reason)] if nxt.counterparty_pid else []

    async def _save(self, n: ContractNegotiation, outbox: list[OutboxMessage], *, new: bool = False) -> None:
        outbox = self.handoff.leased(outbox)
        saved = await (self.store.create(n, outbox) if new else self.store.save(n, outbox))
        if not saved:
            raise Stale(409, "the negotiation changed meanwhile; send it again")
        self.handoff.hand_over(outbox)

    async def step(self, n: ContractNegotiation, step: Step) -> ContractNegotiation:
        """Take our STEP on N and queue its message; NegotiationError if not allowed now."""
        nxt, outbox = self._prepare(n, step)
        if nxt is not n:
            await self._save(nxt, outbox)
        return nxt

    async def start(self, provider_url: str, dataset_id: str, offer_id: str | None = None) -> ContractNegotiation:
        """The consumer asks PROVIDER_URL for DATASET_ID under one of its offers."""
        base = await dsp_base(self.session, provider_url)
        url = f"{base}/catalog/datasets/{dataset_id}"
        try:
            async with dsp_request(self.session, "GET", url, signer=self.signer) as response:
                if response.status != 200:
                    raise ConnectorError(Err.NOT_FOUND if response.status == 404 else Err.BAD_INPUT,
                                         f"{url} answered {response.status}: "
                                         f"{sentence(response.status, await response.read())}")
                dataset = strictjson.loads(await response.read())
        except aiohttp.ClientError as exc:
            raise ConnectorError(Err.BAD_INPUT, f"cannot reach {url}: {exc}") from None
        except ValueError as exc:
            raise ConnectorError(Err.BAD_INPUT, f"{url} did not answer JSON: {exc}") from None
        offers = dataset.get("hasPolicy", []) if isinstance(dataset, dict) else []
        offers = offers if isinstance(offers, list) else [offers]
        chosen = [o for o in offers if isinstance(o, dict) and (offer_id is None or o.get("@id") == offer_id)]
        if not chosen:
            raise ConnectorError(Err.NOT_FOUND, f"the dataset {dataset_id} has no offer {offer_id or ''}".strip())
        offer = {**chosen[0], "@type": "Offer", "target": dataset["@id"]}
        provider_did = named_provider(dataset, offer) or await self._provider_did(base)
        return await self._request(base, provider_did, offer)

    async def start_with_offer(self, provider_address: str, provider_id: str, dataset_id: str,
                               offer: dict[str, Any]) -> ContractNegotiation:
        """The consumer asks for DATASET_ID under OFFER, which its operator already holds: no
        catalog is read, PROVIDER_ADDRESS is the provider's DSP base URL and PROVIDER_ID the
        identity it authenticates with (a DSP counterpart need not serve its catalog to us)."""
        if not provider_address.startswith(("http://", "https://")):
            raise ConnectorError(Err.BAD_INPUT, f"the provider's DSP address {provider_address!r} is not an http(s) URL")
        if not isinstance(offer.get("@id"), str):
            raise ConnectorError(Err.BAD_INPUT, "the offer needs its @id")
        terms = {k: v for k, v in offer.items() if k not in ("@context", codec.SIGNATURE)}
        terms = {**terms, "@type": "Offer", "target": dataset_id}
        terms.setdefault("assigner", provider_id)
        try:
            _policy(terms)
        except Exception as exc:  # noqa: BLE001 - the policy library's errors
            raise ConnectorError(Err.BAD_INPUT, f"the offer is not a usable ODRL policy: {exc}") from None
        if codec.problems("ContractRequestMessage", {"@context": [codec.DSP_CONTEXT], "@type": "ContractRequestMessage",
                                                     "consumerPid": "x", "offer": terms, "callbackAddress": "x"}):
            raise ConnectorError(Err.BAD_INPUT, "the offer is not a DSP offer (an @id and a permission or prohibition)")
        return await self._request(provider_address.rstrip("/"), provider_id, terms)

    async def _request(self, base: str, provider_did: str, offer: dict[str, Any]) -> ContractNegotiation:
        offer = {**offer}
        offer.setdefault("assigner", provider_did)
        n = start(Role.CONSUMER, new_id=new_pid(), counterparty_did=provider_did,
                  counterparty_address=base, offer=offer, now=now())
        await self._save(n, [self._outbox(n, MessageKind.CONTRACT_REQUEST, callback=True)], new=True)
        return n

    async def _provider_did(self, base: str) -> str:
        """The DID of the provider at BASE when its dataset names none (DSP does not ask it
        to): the did:web of its origin, which must resolve (its `/.well-known/did.json`)."""
        did = did_of_endpoint(base)
        try:
            await self.resolver.resolve(did)  # the resolver checks that the document is DID's
        except ConnectorError as exc:
            raise ConnectorError(Err.BAD_INPUT, "the provider's dataset names no publisher nor assigner, "
                                 f"and its DID document gives none: {exc}") from None
        return did

    async def terminate(self, negotiation_id: str, reason: str = "terminated by its owner") -> ContractNegotiation:
        n = await self.store.get(negotiation_id)
        if n is None:
            raise ConnectorError(Err.NOT_FOUND, f"no negotiation {negotiation_id}")
        return await self._operator(n, Step(MessageKind.TERMINATION, reason=reason))

    async def finalized(self, agreement_id: str, counterparty_did: str | None = None) -> ContractNegotiation | None:
        """The FINALIZED negotiation whose agreement is AGREEMENT_ID (with that counterparty)."""
        n = await self.store.by_agreement(agreement_id, counterparty_did)
        return n if n is not None and n.state is State.FINALIZED else None

    # ---- inbound ----------------------------------------------------------------------

    async def get_for(self, pid: str, caller: Caller) -> ContractNegotiation:
        n = await self.store.get(pid)
        if n is None or n.counterparty_did != caller.did:
            raise NegotiationError(404, "no such negotiation")  # never reveal others'
        return n

    async def receive(self, receiver: Role, pid: str | None, message: Message, caller: Caller,
                      found: ContractNegotiation | None = None) -> tuple[int, ContractNegotiation]:
        """Apply an inbound MESSAGE for the process PID (None: an opening message): 201 for a
        new process, 200 for a step or a replay; NegotiationError otherwise. FOUND: what
        `get_for(pid, caller)` gave the caller just before, if it asked."""
        if message.callback_address is not None:  # checked before anything is stored
            try:
                await self.callbacks.callback(message.callback_address, caller.did)
            except AddressRefused as exc:
                raise NegotiationError(400, f"callbackAddress: {exc}") from None
        for _ in range(3):
            try:
                return await self._receive(receiver, pid, message, caller, found)
            except Stale:
                found = None  # our own write came between (e.g. recording their pid): again
        raise NegotiationError(409, "the negotiation changed meanwhile; send it again")

    async def _receive(self, receiver: Role, pid: str | None, message: Message, caller: Caller,
                       found: ContractNegotiation | None) -> tuple[int, ContractNegotiation]:
        if pid is not None:
            current: ContractNegotiation | None = found or await self.get_for(pid, caller)
            if current.role is not receiver:
                raise NegotiationError(404, "no such negotiation")
            if message.kind is MessageKind.CONTRACT_AGREEMENT:
                await self._check_agreement(current, message)
        else:
            theirs = message.consumer_pid if receiver is Role.PROVIDER else message.provider_pid
            current = await self.store.find(receiver, theirs, caller.did) if theirs else None
        before = current
        outcome = receive(current, receiver, message, caller.did, now=now(), new_id=new_pid())
        if isinstance(outcome, Refused):
            status = 404 if outcome.reason is Reason.UNKNOWN_PROCESS else 400
            raise NegotiationError(status, outcome.detail)
        if isinstance(outcome, AlreadyApplied):
            return 200, outcome.negotiation
        n, outbox = outcome.negotiation, []
        answer = await self._automatic(n, caller, before)
        if answer is not None:
            # the message and our answer in one save: a crash cannot leave a decision untaken
            decided, outbox = self._prepare(n, answer)
            n = replace(decided, version=n.version)
        await self._save(n, outbox, new=before is None)
        return (201 if before is None else 200), n

    # ---- decisions --------------------------------------------------------------------

    async def _automatic(self, n: ContractNegotiation, caller: Caller,
                         before: ContractNegotiation | None) -> Step | None:
        """Our answer to the message that made N (None: nothing due, or the operator decides)."""
        if n.role in self.manual or (n.role, n.state) not in OUR_TURN:
            return None
        if n.state is State.REQUESTED:
            return await self._answer(n, caller, may_counter=before is None)
        if n.state is State.ACCEPTED:
            return await self._answer(n, caller, may_counter=False)  # they accepted our offer
        if n.state is State.OFFERED:
            if before is None:
                return None  # an offer we never asked for waits for the operator
            try:
                fits = equivalent(_policy(n.offer), _policy(before.offer))
            except Exception:  # noqa: BLE001 - an unreadable offer is one we do not accept
                fits = False
            if not fits:
                return Step(MessageKind.TERMINATION, reason="the offer is not what we asked for")
        return self._affirm(n)

    def _affirm(self, n: ContractNegotiation) -> Step:
        kind = OUR_TURN[(n.role, n.state)]
        return Step(kind, agreement=self._agreement(n) if kind is MessageKind.CONTRACT_AGREEMENT else None)

    async def _answer(self, n: ContractNegotiation, caller: Caller, *, may_counter: bool) -> Step:
        """The provider's answer to a request: agree to an offer of the dataset that the request
        matches and the caller may have, else counter-offer one it may have (once, to an
        opening request), else terminate with the reason."""
        if self.catalog is None or not n.dataset_id:
            return Step(MessageKind.TERMINATION, reason="no such dataset")
        try:
            dataset = await self.catalog.visible(caller, n.dataset_id)
        except ConnectorError:
            return Step(MessageKind.TERMINATION, reason="no such dataset")
        try:
            requested = _policy(n.offer)
        except Exception as exc:  # noqa: BLE001 - the policy library's errors
            return Step(MessageKind.TERMINATION, reason=f"the requested offer is not a usable ODRL policy: {exc}")
        context = Context(now=now(), requester=caller.did, scope=Scope.NEGOTIATION,
                          claims={"membership": membership_issuers(caller)})
        reasons, allowed = [], []
        for doc in dataset.offer_documents():
            offered = _policy(doc)
            decision = evaluate(offered, Request(None), context)
            if not decision.allowed:
                reasons.append("the offer's policy does not allow this requester: "
                               + "; ".join(r.message for r in decision.reasons)[:300])
                continue
            allowed.append(doc)
            if doc.get("@id") not in (None, n.offer.get("@id")):
                continue
            match = matches(requested, offered)
            if match.ok:
                return Step(MessageKind.CONTRACT_AGREEMENT, agreement=self._agreement(n))
            reasons.insert(0, "the request does not match the offer: " + "; ".join(match.reasons))
        if may_counter and allowed:
            return Step(MessageKind.CONTRACT_OFFER, offer=self._terms(allowed[0], n.dataset_id, self.did))
        return Step(MessageKind.TERMINATION, reason=reasons[0] if reasons else "the request names no offer of this dataset")

    @staticmethod
    def _terms(doc: dict[str, Any], dataset_id: str | None, assigner: str) -> dict[str, Any]:
        """Offer terms as they go on the wire: about the dataset, from ASSIGNER, with an id."""
        body = {k: v for k, v in doc.items() if k not in ("@context", codec.SIGNATURE)}
        return {"@id": new_pid(), **body, "@type": "Offer", "target": dataset_id, "assigner": assigner}

    # ---- the operator's decisions -----------------------------------------------------

    async def _operator(self, n: ContractNegotiation, step: Step) -> ContractNegotiation:
        try:
            return await self.step(n, step)
        except NegotiationError as exc:
            raise ConnectorError(Err.CONFLICT if exc.status == 409 else Err.BAD_INPUT, str(exc)) from None

    async def _mine(self, negotiation_id: str) -> ContractNegotiation:
        n = await self.store.get(negotiation_id)
        if n is None:
            raise ConnectorError(Err.NOT_FOUND, f"no negotiation {negotiation_id}")
        return n

    async def agree(self, negotiation_id: str) -> ContractNegotiation:
        """Take the step that says yes: agree (provider), accept an offer or verify an
        agreement (consumer), finalize a verified agreement (provider)."""
        n = await self._mine(negotiation_id)
        if (n.role, n.state) not in OUR_TURN:
            raise ConnectorError(Err.CONFLICT, f"a {n.role.value.lower()} has nothing to agree to in state {n.state.value}")
        return await self._operator(n, self._affirm(n))

    async def offer(self, negotiation_id: str, offer: dict[str, Any] | None = None) -> ContractNegotiation:
        """Answer with other terms: a provider's counter-offer (default: the dataset's first
        offer) or a consumer's counter-request (OFFER required)."""
        n = await self._mine(negotiation_id)
        if n.role is Role.CONSUMER:
            if offer is None:
                raise ConnectorError(Err.BAD_INPUT, "a counter-request needs the offer it proposes")
            step = Step(MessageKind.CONTRACT_REQUEST, offer=self._terms(offer, n.dataset_id, n.counterparty_did))
        else:
            if offer is None:
                dataset = await self.catalog.store.get_by_iri(n.dataset_id) if self.catalog and n.dataset_id else None
                documents = dataset.offer_documents() if dataset else []
                if not documents:
                    raise ConnectorError(Err.BAD_INPUT, "the dataset has no offer to propose; give one")
                offer = documents[0]
            step = Step(MessageKind.CONTRACT_OFFER, offer=self._terms(offer, n.dataset_id, self.did))
        try:
            _policy(step.offer or {})
        except Exception as exc:  # noqa: BLE001 - the policy library's errors
            raise ConnectorError(Err.BAD_INPUT, f"the offer is not a usable ODRL policy: {exc}") from None
        return await self._operator(n, step)

    async def pending(self) -> list[ContractNegotiation]:
        """Negotiations waiting for us (the operator, in manual mode), oldest first."""
        found = []
        for role, state in OUR_TURN:
            found += await self.store.list(state, role, limit=500)
        return sorted(found, key=lambda n: (n.created_at, n.id))

    def _agreement(self, n: ContractNegotiation) -> dict[str, Any]:
        """The ODRL Agreement for N's offer, signed by us (a JWS over its canonical JSON)."""
        rules = {k: v for k, v in n.offer.items()
                 if k not in ("@id", "@type", "@context", "target", "assigner", "assignee")}
        agreement = {
            "@id": new_pid(), "@type": "Agreement", **rules, "target": n.dataset_id,
            "assigner": self.did, "assignee": n.counterparty_did,
            "timestamp": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        jws = sign_jwt({"typ": "odrl-agreement+jws"}, {"iss": self.did, "agreement": agreement}, self.signer)
        return {**agreement, codec.SIGNATURE: jws}

    async def _check_agreement(self, n: ContractNegotiation, message: Message) -> None:
        """The consumer's check of a provider's agreement: ours, as asked, signed by it."""
        agreement = dict(message.agreement or {})
        jws = agreement.pop(codec.SIGNATURE, None)
        problems = []
        if agreement.get("assignee") != self.did:
            problems.append("the agreement is not assigned to us")
        if agreement.get("assigner") != n.counterparty_did:
            problems.append("the agreement's assigner is not the provider")
        if agreement.get("target") != n.dataset_id:
            problems.append("the agreement is not about the dataset asked for")
        # DSP asks for no signature: a provider that does not sign is authenticated by the
        # DCP token of its message (the caller is the counterparty, checked by `get_for`); a
        # signature, when present, must verify (`authentication` records which was the case)
        if jws is not None and not (isinstance(jws, str) and await self._signature_ok(jws, agreement, n.counterparty_did)):
            problems.append("the agreement's signature does not verify")
        if problems:
            raise NegotiationError(400, "; ".join(problems))

    async def _signature_ok(self, jws: str, agreement: dict[str, Any], signer_did: str) -> bool:
        try:
            header, payload, signing_input, signature = decode_parts(jws)
            kid = header.get("kid")
            if not isinstance(kid, str) or did_of(kid) != signer_did or payload.get("iss") != signer_did:
                return False
            key = await self.resolver.verification_key(kid, "assertionMethod")
            if jwk_alg(key) != header.get("alg"):
                return False
            if not verify_signature(key, header["alg"], signing_input.encode(), signature):
                return False
        except (ValueError, KeyError, UnicodeDecodeError, ConnectorError):
            return False
        canonical = json.dumps(payload.get("agreement"), sort_keys=True)
        return canonical == json.dumps(agreement, sort_keys=True)

    # ---- pid binding (the answer to our opening message) -------------------------------

    async def bind(self, negotiation_id: str, body: Any) -> None:
        if not isinstance(body, dict) or codec.problems("ContractNegotiation", body):
            return
        for _ in range(3):
            n = await self.store.get(negotiation_id)
            if n is None:
                return
            pid = body["providerPid"] if n.role is Role.CONSUMER else body["consumerPid"]
            outcome = bind_counterparty_pid(n, pid)
            if not isinstance(outcome, Applied) or await self.store.save(outcome.negotiation):
                return

    async def fail(self, negotiation_id: str) -> None:
        """The counterparty refused our message for good: end the process locally."""
        n = await self.store.get(negotiation_id)
        if n is not None and not n.state.final:
            outcome = act(n, MessageKind.TERMINATION, now=now())
            if isinstance(outcome, Applied):
                await self.store.save(outcome.negotiation)
