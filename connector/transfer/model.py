"""DSP 2025-1 transfer process as pure data: states, messages and guarded transitions.

Nothing here does I/O, reads the clock or raises for a protocol fault: a refused message is a
`Refused` value with a closed reason, a replay is `AlreadyApplied`, a step is `Applied`.

The machine (DSP 2025-1, with the TCK's TP and TP_C scenarios as its reading):
REQUESTED -> STARTED (the provider); STARTED -> SUSPENDED, COMPLETED (either side);
SUSPENDED -> STARTED (only the side that suspended resumes); any non-final state ->
TERMINATED (either side). COMPLETED and TERMINATED are final; a suspended transfer cannot
complete without being started again.

Idempotency: a message is already applied when the process is in the state it leads to and
the last step was that same kind, from the same side, with the same payload digest. Ending an
ended process the same way (a termination when TERMINATED, a completion when COMPLETED) is
already applied whoever asks; so is the opening request replayed (same consumer pid,
agreement, format, address and purpose), whatever the state.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from connector.negotiation.model import Role

PULL = "HttpData-PULL"
PUSH = "HttpData-PUSH"
FORMATS = (PULL, PUSH)


class State(StrEnum):
    REQUESTED = "REQUESTED"
    STARTED = "STARTED"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    TERMINATED = "TERMINATED"

    @property
    def final(self) -> bool:
        return self in (State.COMPLETED, State.TERMINATED)


class MessageKind(StrEnum):
    REQUEST = "TransferRequestMessage"
    START = "TransferStartMessage"
    SUSPENSION = "TransferSuspensionMessage"
    COMPLETION = "TransferCompletionMessage"
    TERMINATION = "TransferTerminationMessage"


_LIVE = frozenset({State.REQUESTED, State.STARTED, State.SUSPENDED})

# (message, sender) -> the states it may leave from; absent: that side never sends it
SOURCES: dict[tuple[MessageKind, Role], frozenset[State | None]] = {
    (MessageKind.REQUEST, Role.CONSUMER): frozenset({None}),
    (MessageKind.START, Role.PROVIDER): frozenset({State.REQUESTED, State.SUSPENDED}),
    (MessageKind.START, Role.CONSUMER): frozenset({State.SUSPENDED}),
    (MessageKind.SUSPENSION, Role.PROVIDER): frozenset({State.STARTED}),
    (MessageKind.SUSPENSION, Role.CONSUMER): frozenset({State.STARTED}),
    (MessageKind.COMPLETION, Role.PROVIDER): frozenset({State.STARTED}),
    (MessageKind.COMPLETION, Role.CONSUMER): frozenset({State.STARTED}),
    (MessageKind.TERMINATION, Role.PROVIDER): _LIVE,
    (MessageKind.TERMINATION, Role.CONSUMER): _LIVE,
}

TARGET: dict[MessageKind, State] = {
    MessageKind.REQUEST: State.REQUESTED,
    MessageKind.START: State.STARTED,
    MessageKind.SUSPENSION: State.SUSPENDED,
    MessageKind.COMPLETION: State.COMPLETED,
    MessageKind.TERMINATION: State.TERMINATED,
}


class Reason(StrEnum):
    INVALID_TRANSITION = "invalid-transition"
    WRONG_ROLE = "wrong-role"
    UNKNOWN_PROCESS = "unknown-process"
    PID_MISMATCH = "pid-mismatch"


@dataclass(frozen=True)
class TransferProcess:
    id: str  # our pid: provider_pid when we provide, consumer_pid when we consume
    role: Role
    state: State
    consumer_pid: str | None
    provider_pid: str | None
    counterparty_did: str
    counterparty_address: str | None  # the consumer's callback base / the provider's DSP base
    agreement_id: str
    dataset_id: str | None
    format: str
    data_address: dict[str, Any] | None  # PUSH: where the provider sends; PULL: where we fetch
    created_at: datetime
    updated_at: datetime
    purpose: str | None = None  # the consumer's declared purpose, checked by the policy
    reason: str | None = None  # why it is suspended or ended (a resume clears it)
    membership: tuple[str, ...] = ()  # provider: issuers of the consumer's verified memberships
    version: int = 1
    last_message: MessageKind | None = None
    last_sender: Role | None = None
    last_digest: str | None = None

    @property
    def counterparty_pid(self) -> str | None:
        return self.consumer_pid if self.role is Role.PROVIDER else self.provider_pid


@dataclass(frozen=True)
class Message:
    kind: MessageKind
    consumer_pid: str | None = None
    provider_pid: str | None = None
    agreement_id: str | None = None
    format: str | None = None
    data_address: dict[str, Any] | None = None
    callback_address: str | None = None
    purpose: str | None = None
    code: str | None = None
    reason: str | None = None

    @property
    def digest(self) -> str:
        canonical = json.dumps(
            {"a": self.agreement_id, "f": self.format, "d": self.data_address, "p": self.purpose},
            sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Applied:
    process: TransferProcess


@dataclass(frozen=True)
class AlreadyApplied:
    process: TransferProcess


@dataclass(frozen=True)
class Refused:
    reason: Reason
    detail: str


Outcome = Applied | AlreadyApplied | Refused


def _already(current: TransferProcess, message: Message, sender: Role) -> bool:
    if current.state is not TARGET[message.kind]:
        return False
    if message.kind in (MessageKind.TERMINATION, MessageKind.COMPLETION):
        return True
    return (current.last_message is message.kind and current.last_sender is sender
            and current.last_digest == message.digest)


def _step(current: TransferProcess, message: Message, sender: Role, now: datetime) -> Outcome:
    if _already(current, message, sender):
        return AlreadyApplied(current)
    sources = SOURCES.get((message.kind, sender))
    if sources is None:
        return Refused(Reason.WRONG_ROLE, f"a {sender.value.lower()} never sends {message.kind.value}")
    if current.state not in sources:
        return Refused(Reason.INVALID_TRANSITION,
                       f"{message.kind.value} is not allowed in state {current.state.value}")
    if (message.kind is MessageKind.START and current.state is State.SUSPENDED
            and current.last_sender is not sender):
        return Refused(Reason.INVALID_TRANSITION, "only the side that suspended a transfer resumes it")
    data_address = current.data_address
    if message.kind is MessageKind.START and sender is Role.PROVIDER and message.data_address:
        data_address = message.data_address  # a (re)start brings the current PULL address
    ends = message.kind in (MessageKind.SUSPENSION, MessageKind.TERMINATION)
    reason = message.reason if ends else None if message.kind is MessageKind.START else current.reason
    return Applied(replace(
        current, state=TARGET[message.kind], data_address=data_address, updated_at=now,
        reason=reason, version=current.version + 1,
        last_message=message.kind, last_sender=sender, last_digest=message.digest,
    ))


def receive(current: TransferProcess | None, receiver: Role, message: Message, sender_did: str,
            *, now: datetime, new_id: str, dataset_id: str | None = None) -> Outcome:
    """The next process after `receiver` got `message` from the authenticated `sender_did`.

    `current` is what the protocol layer found (by our pid in the path, or by the
    counterparty's pid and DID for an opening request), or None. `new_id` is the pid a
    request opens; `dataset_id` is the agreement's target, which the service looked up."""
    sender = receiver.other
    if (message.kind, sender) not in SOURCES:
        return Refused(Reason.WRONG_ROLE, f"a {receiver.value.lower()} never receives {message.kind.value}")
    ours = message.provider_pid if receiver is Role.PROVIDER else message.consumer_pid
    theirs = message.consumer_pid if receiver is Role.PROVIDER else message.provider_pid
    if current is None:
        if message.kind is not MessageKind.REQUEST or ours is not None:
            return Refused(Reason.UNKNOWN_PROCESS, "no such transfer process")
        if not theirs or not message.agreement_id or not message.format:
            return Refused(Reason.PID_MISMATCH, "a request needs the consumer's pid, an agreement and a format")
        return Applied(TransferProcess(
            id=new_id, role=receiver, state=State.REQUESTED, consumer_pid=theirs, provider_pid=new_id,
            counterparty_did=sender_did, counterparty_address=message.callback_address,
            agreement_id=message.agreement_id, dataset_id=dataset_id, format=message.format,
            data_address=message.data_address, created_at=now, updated_at=now,
            purpose=message.purpose, last_message=message.kind, last_sender=sender,
            last_digest=message.digest,
        ))
    if current.role is not receiver or current.counterparty_did != sender_did:
        return Refused(Reason.UNKNOWN_PROCESS, "no such transfer process")  # never reveal others'
    if message.kind is MessageKind.REQUEST:
        # the very request that opened it, replayed: answer with where it is now
        opened = (current.agreement_id, current.format, current.data_address, current.purpose)
        if opened == (message.agreement_id, message.format, message.data_address, message.purpose):
            return AlreadyApplied(current)
        return Refused(Reason.INVALID_TRANSITION, "this transfer process is already open")
    if ours != current.id:
        return Refused(Reason.PID_MISMATCH, "the message names another transfer process of ours")
    known = current.counterparty_pid
    if theirs != known and not (known is None and theirs):
        return Refused(Reason.PID_MISMATCH, "the message names another counterparty process")
    outcome = _step(current, message, sender, now)
    if isinstance(outcome, Applied) and known is None:
        outcome = Applied(replace(outcome.process, provider_pid=theirs))  # learnt from its first message
    return outcome


def act(current: TransferProcess, kind: MessageKind, *, now: datetime,
        data_address: dict[str, Any] | None = None, reason: str | None = None) -> Outcome:
    """The node's own step, under the same guard as the counterparty's."""
    message = Message(kind, current.consumer_pid, current.provider_pid,
                      data_address=data_address, reason=reason)
    return _step(current, message, current.role, now)


def start(*, new_id: str, counterparty_did: str, counterparty_address: str, agreement_id: str,
          dataset_id: str | None, format: str, data_address: dict[str, Any] | None, now: datetime,
          purpose: str | None = None) -> TransferProcess:
    """A transfer this node asks for, as consumer (REQUESTED; the provider's pid comes later)."""
    message = Message(MessageKind.REQUEST, agreement_id=agreement_id, format=format,
                      data_address=data_address, purpose=purpose)
    return TransferProcess(
        id=new_id, role=Role.CONSUMER, state=State.REQUESTED, consumer_pid=new_id, provider_pid=None,
        counterparty_did=counterparty_did, counterparty_address=counterparty_address,
        agreement_id=agreement_id, dataset_id=dataset_id, format=format, data_address=data_address,
        created_at=now, updated_at=now, purpose=purpose, last_message=MessageKind.REQUEST,
        last_sender=Role.CONSUMER, last_digest=message.digest,
    )


def bind_provider_pid(process: TransferProcess, pid: str) -> Outcome:
    """Record the provider's pid from its answer to our request (once only)."""
    if process.provider_pid == pid:
        return AlreadyApplied(process)
    if process.provider_pid is not None or process.role is not Role.CONSUMER:
        return Refused(Reason.PID_MISMATCH, "the provider's pid is already known")
    return Applied(replace(process, provider_pid=pid, version=process.version + 1))
