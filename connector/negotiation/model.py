"""DSP 2025-1 contract negotiation as pure data: states, messages and guarded transitions.

Nothing here does I/O, reads the clock or raises for a protocol fault: a refused message is a
`Refused` value with a closed reason, a replay is `AlreadyApplied`, a step is `Applied`.

Re-deliveries follow the DSP state machine: a message it does not allow in the current state is
refused, even byte for byte the one that made that state (the TCK's CN:03-04: a consumer may
not send ContractRequestMessage in REQUESTED). Two re-deliveries are answered as already
applied, because refusing them helps no one and would strand an honest sender:
- the replay of an opening message (it names none of our pids) while nothing happened since it
  (same state, kind, side and payload digest, the SHA-256 of the canonical JSON of its offer
  and agreement; version 1): its sender learns our pid only from our answer, so it cannot ask
  us how its message went;
- a termination of a TERMINATED negotiation: ending an ended one changes nothing, whoever asks.
A sender that lost our answer to any other message asks the counterparty's state instead
(`delivery.py`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class State(StrEnum):
    REQUESTED = "REQUESTED"
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    AGREED = "AGREED"
    VERIFIED = "VERIFIED"
    FINALIZED = "FINALIZED"
    TERMINATED = "TERMINATED"

    @property
    def final(self) -> bool:
        return self in (State.FINALIZED, State.TERMINATED)

    @property
    def dsp(self) -> str:
        """The value of `state` in a DSP ContractNegotiation."""
        return self.value


class Role(StrEnum):
    PROVIDER = "PROVIDER"
    CONSUMER = "CONSUMER"

    @property
    def other(self) -> Role:
        return Role.CONSUMER if self is Role.PROVIDER else Role.PROVIDER


class MessageKind(StrEnum):
    CONTRACT_REQUEST = "ContractRequestMessage"
    CONTRACT_OFFER = "ContractOfferMessage"
    EVENT_ACCEPTED = "ContractNegotiationEventMessage:ACCEPTED"
    EVENT_FINALIZED = "ContractNegotiationEventMessage:FINALIZED"
    CONTRACT_AGREEMENT = "ContractAgreementMessage"
    AGREEMENT_VERIFICATION = "ContractAgreementVerificationMessage"
    TERMINATION = "ContractNegotiationTerminationMessage"

    @property
    def dsp_type(self) -> str:
        """The JSON-LD `@type` on the wire."""
        return self.value.split(":", 1)[0]

    @property
    def event_type(self) -> str | None:
        """The `eventType` of a ContractNegotiationEventMessage, else None."""
        _, _, event = self.value.partition(":")
        return event or None


@dataclass(frozen=True)
class Rule:
    sender: Role | None  # None: either side may send it
    sources: frozenset[State | None]  # None: the message may open a new negotiation
    target: State


_NON_FINAL = frozenset(s for s in State if not s.final)

# The DSP 2025-1 state machine, one row per message: who may send it, from where, to where.
RULES: dict[MessageKind, Rule] = {
    # an initial request, or a consumer's counter-request to an offer
    MessageKind.CONTRACT_REQUEST: Rule(
        Role.CONSUMER, frozenset({None, State.OFFERED}), State.REQUESTED
    ),
    # an initial offer, or a provider's counter-offer to a request
    MessageKind.CONTRACT_OFFER: Rule(
        Role.PROVIDER, frozenset({None, State.REQUESTED}), State.OFFERED
    ),
    MessageKind.EVENT_ACCEPTED: Rule(Role.CONSUMER, frozenset({State.OFFERED}), State.ACCEPTED),
    # the provider may agree to a request directly, or to an accepted offer
    MessageKind.CONTRACT_AGREEMENT: Rule(
        Role.PROVIDER, frozenset({State.REQUESTED, State.ACCEPTED}), State.AGREED
    ),
    MessageKind.AGREEMENT_VERIFICATION: Rule(
        Role.CONSUMER, frozenset({State.AGREED}), State.VERIFIED
    ),
    MessageKind.EVENT_FINALIZED: Rule(Role.PROVIDER, frozenset({State.VERIFIED}), State.FINALIZED),
    MessageKind.TERMINATION: Rule(None, frozenset(_NON_FINAL), State.TERMINATED),
}


class Reason(StrEnum):
    INVALID_TRANSITION = "invalid-transition"  # not allowed in the current state
    WRONG_ROLE = "wrong-role"  # that side never sends this message
    UNKNOWN_PROCESS = "unknown-process"  # no such negotiation with that counterparty
    PID_MISMATCH = "pid-mismatch"  # the message names other process ids


@dataclass(frozen=True)
class ContractNegotiation:
    id: str  # our local pid: provider_pid when we provide, consumer_pid when we consume
    role: Role
    state: State
    consumer_pid: str | None
    provider_pid: str | None
    counterparty_did: str
    counterparty_address: str | None  # the counterparty's DSP callback / base address
    dataset_id: str | None
    offer: dict[str, Any]  # the current ODRL offer, JSON-LD
    agreement: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    version: int = 1  # optimistic concurrency: every step adds one
    last_message: MessageKind | None = None
    last_sender: Role | None = None
    last_digest: str | None = None

    @property
    def counterparty_pid(self) -> str | None:
        return self.consumer_pid if self.role is Role.PROVIDER else self.provider_pid

    @property
    def agreement_id(self) -> str | None:
        agreement_id = (self.agreement or {}).get("@id")
        return agreement_id if isinstance(agreement_id, str) else None


@dataclass(frozen=True)
class Message:
    """A negotiation message as the domain sees it (the codec maps JSON-LD to this)."""

    kind: MessageKind
    consumer_pid: str | None = None
    provider_pid: str | None = None
    offer: dict[str, Any] | None = None
    agreement: dict[str, Any] | None = None
    callback_address: str | None = None
    dataset_id: str | None = None

    @property
    def digest(self) -> str:
        canonical = json.dumps(
            {"offer": self.offer, "agreement": self.agreement},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Applied:
    negotiation: ContractNegotiation  # persist it (compare-and-set), then act


@dataclass(frozen=True)
class AlreadyApplied:
    negotiation: ContractNegotiation  # unchanged: answer with the current state, send nothing


@dataclass(frozen=True)
class Refused:
    reason: Reason
    detail: str


Outcome = Applied | AlreadyApplied | Refused


def _pid_of(message: Message, role: Role) -> str | None:
    return message.provider_pid if role is Role.PROVIDER else message.consumer_pid


def _already_terminated(current: ContractNegotiation, message: Message) -> bool:
    return message.kind is MessageKind.TERMINATION and current.state is State.TERMINATED


def _made(current: ContractNegotiation, message: Message, sender: Role) -> bool:
    """Whether MESSAGE from SENDER is the last step applied, the one that made CURRENT's state."""
    return (
        current.state is RULES[message.kind].target
        and current.last_message is message.kind
        and current.last_sender is sender
        and current.last_digest == message.digest
    )


def _opening_replayed(current: ContractNegotiation, message: Message, sender: Role) -> bool:
    """Whether MESSAGE is the opening message that made CURRENT, with nothing applied since."""
    return current.version == 1 and _made(current, message, sender)


def _step(current: ContractNegotiation, message: Message, sender: Role, now: datetime) -> Outcome:
    """Apply a message from `sender` to an existing negotiation; pids already checked."""
    if _already_terminated(current, message):
        return AlreadyApplied(current)
    rule = RULES[message.kind]
    if current.state not in rule.sources:
        return Refused(
            Reason.INVALID_TRANSITION,
            f"{message.kind.value} is not allowed in state {current.state.value}",
        )
    offers = message.kind in (MessageKind.CONTRACT_REQUEST, MessageKind.CONTRACT_OFFER)
    agrees = message.kind is MessageKind.CONTRACT_AGREEMENT
    if agrees and message.agreement is None:
        return Refused(Reason.INVALID_TRANSITION, "an agreement message must carry the agreement")
    address = current.counterparty_address
    if sender is not current.role and message.callback_address:
        address = message.callback_address  # the counterparty tells where to call it back
    return Applied(
        replace(
            current,
            state=rule.target,
            # only a request or an offer changes the offer, only an agreement sets the agreement
            offer=message.offer if message.offer is not None and offers else current.offer,
            agreement=message.agreement if agrees else current.agreement,
            counterparty_address=address,
            dataset_id=message.dataset_id or current.dataset_id,
            updated_at=now,
            version=current.version + 1,
            last_message=message.kind,
            last_sender=sender,
            last_digest=message.digest,
        )
    )


def receive(
    current: ContractNegotiation | None,
    receiver: Role,
    message: Message,
    sender_did: str,
    *,
    now: datetime,
    new_id: str,
) -> Outcome:
    """The next negotiation after `receiver` got `message` from the authenticated `sender_did`.

    `current` is the negotiation the protocol layer found for the message (by our pid in the
    path, or by the counterparty's pid and DID for an initial message), or None. `new_id` is
    the pid we give a negotiation this message opens; it is ignored otherwise.
    """
    sender = receiver.other
    rule = RULES[message.kind]
    if rule.sender is not None and rule.sender is not sender:
        return Refused(
            Reason.WRONG_ROLE, f"a {receiver.value.lower()} never receives {message.kind.value}"
        )
    ours, theirs = _pid_of(message, receiver), _pid_of(message, sender)
    if current is None:
        if None not in rule.sources or ours is not None:
            # a message that names our pid (or cannot open one) needs a negotiation we hold
            return Refused(Reason.UNKNOWN_PROCESS, "no such negotiation")
        if not theirs or message.offer is None:
            return Refused(
                Reason.PID_MISMATCH, "an opening message needs its sender's pid and an offer"
            )
        return Applied(
            ContractNegotiation(
                id=new_id,
                role=receiver,
                state=rule.target,
                consumer_pid=theirs if receiver is Role.PROVIDER else new_id,
                provider_pid=new_id if receiver is Role.PROVIDER else theirs,
                counterparty_did=sender_did,
                counterparty_address=message.callback_address,
                dataset_id=message.dataset_id or _target(message.offer),
                offer=message.offer,
                agreement=None,
                created_at=now,
                updated_at=now,
                last_message=message.kind,
                last_sender=sender,
                last_digest=message.digest,
            )
        )
    if current.role is not receiver or current.counterparty_did != sender_did:
        return Refused(Reason.UNKNOWN_PROCESS, "no such negotiation")  # never reveal others'
    if ours is None:
        # only an opening message omits our pid: a replay of it is fine, anything else is not
        if None not in rule.sources:
            return Refused(Reason.PID_MISMATCH, f"{message.kind.value} must name this negotiation")
        if _opening_replayed(current, message, sender):
            return AlreadyApplied(current)
        return Refused(Reason.INVALID_TRANSITION, "this process is already open")
    if ours != current.id:
        return Refused(Reason.PID_MISMATCH, "the message names another negotiation of ours")
    known = current.counterparty_pid
    if theirs != known and not (known is None and theirs):
        return Refused(Reason.PID_MISMATCH, "the message names another counterparty process")
    outcome = _step(current, message, sender, now)
    if isinstance(outcome, Applied) and known is None:
        # a consumer learns the provider's pid from the provider's first message
        outcome = Applied(replace(outcome.negotiation, provider_pid=theirs))
    return outcome


def act(
    current: ContractNegotiation,
    kind: MessageKind,
    *,
    now: datetime,
    offer: dict[str, Any] | None = None,
    agreement: dict[str, Any] | None = None,
) -> Outcome:
    """The node's own outbound step (the provider offers, agrees or finalizes; the consumer
    counter-requests, accepts or verifies; either terminates), under the same guard; the same
    step again, when it made the current state, is already applied (nothing is sent twice)."""
    rule = RULES[kind]
    if rule.sender is not None and rule.sender is not current.role:
        return Refused(
            Reason.WRONG_ROLE, f"a {current.role.value.lower()} never sends {kind.value}"
        )
    message = Message(
        kind, current.consumer_pid, current.provider_pid, offer=offer, agreement=agreement
    )
    if _made(current, message, current.role):
        return AlreadyApplied(current)  # the operator's step taken twice: nothing goes out again
    return _step(current, message, current.role, now)


def start(
    role: Role,
    *,
    new_id: str,
    counterparty_did: str,
    counterparty_address: str,
    offer: dict[str, Any],
    now: datetime,
    counterparty_pid: str | None = None,
) -> ContractNegotiation:
    """A negotiation this node opens: a consumer's initial request (REQUESTED) or a
    provider's initial offer (OFFERED). The counterparty's pid comes with its answer."""
    kind = MessageKind.CONTRACT_REQUEST if role is Role.CONSUMER else MessageKind.CONTRACT_OFFER
    message = Message(kind, offer=offer)
    return ContractNegotiation(
        id=new_id,
        role=role,
        state=RULES[kind].target,
        consumer_pid=new_id if role is Role.CONSUMER else counterparty_pid,
        provider_pid=new_id if role is Role.PROVIDER else counterparty_pid,
        counterparty_did=counterparty_did,
        counterparty_address=counterparty_address,
        dataset_id=_target(offer),
        offer=offer,
        agreement=None,
        created_at=now,
        updated_at=now,
        last_message=kind,
        last_sender=role,
        last_digest=message.digest,
    )


def bind_counterparty_pid(negotiation: ContractNegotiation, pid: str) -> Outcome:
    """Record the counterparty's pid from its answer to our opening message (once only)."""
    known = negotiation.counterparty_pid
    if known == pid:
        return AlreadyApplied(negotiation)
    if known is not None:
        return Refused(Reason.PID_MISMATCH, "the counterparty's pid is already known")
    version = negotiation.version + 1
    if negotiation.role is Role.PROVIDER:
        return Applied(replace(negotiation, consumer_pid=pid, version=version))
    return Applied(replace(negotiation, provider_pid=pid, version=version))


def _target(offer: dict[str, Any] | None) -> str | None:
    target = (offer or {}).get("target")
    if isinstance(target, dict):
        target = target.get("@id")
    return target if isinstance(target, str) else None
