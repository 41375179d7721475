"""The DSP 2025-1 negotiation state machine: the whole matrix, replays, pids, TCK scenarios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

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

K = MessageKind
P, C = Role.PROVIDER, Role.CONSUMER
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=1)
CONSUMER_DID, PROVIDER_DID = "did:web:consumer.example", "did:web:provider.example"
OFFER = {
    "@type": "Offer",
    "@id": "urn:offer:1",
    "target": "urn:dataset:1",
    "permission": [{"action": "use"}],
}
COUNTER = {**OFFER, "@id": "urn:offer:2"}
AGREEMENT = {"@type": "Agreement", "@id": "urn:agreement:1", "target": "urn:dataset:1"}

# Written out by hand from the DSP 2025-1 state machine (not derived from the model's table):
# (who sends, in which state) -> the state it leads to. None: opens a new negotiation.
ALLOWED: dict[tuple[MessageKind, State | None], State] = {
    (K.CONTRACT_REQUEST, None): State.REQUESTED,
    (K.CONTRACT_REQUEST, State.OFFERED): State.REQUESTED,
    (K.CONTRACT_OFFER, None): State.OFFERED,
    (K.CONTRACT_OFFER, State.REQUESTED): State.OFFERED,
    (K.EVENT_ACCEPTED, State.OFFERED): State.ACCEPTED,
    (K.CONTRACT_AGREEMENT, State.REQUESTED): State.AGREED,
    (K.CONTRACT_AGREEMENT, State.ACCEPTED): State.AGREED,
    (K.AGREEMENT_VERIFICATION, State.AGREED): State.VERIFIED,
    (K.EVENT_FINALIZED, State.VERIFIED): State.FINALIZED,
    **{
        (K.TERMINATION, s): State.TERMINATED
        for s in (State.REQUESTED, State.OFFERED, State.ACCEPTED, State.AGREED, State.VERIFIED)
    },
}
SENDER = {
    K.CONTRACT_REQUEST: {C},
    K.CONTRACT_OFFER: {P},
    K.EVENT_ACCEPTED: {C},
    K.CONTRACT_AGREEMENT: {P},
    K.AGREEMENT_VERIFICATION: {C},
    K.EVENT_FINALIZED: {P},
    K.TERMINATION: {P, C},
}


def negotiation(role: Role, state: State, **changes) -> ContractNegotiation:
    values = dict(
        id="urn:p" if role is P else "urn:c",
        role=role,
        state=state,
        consumer_pid="urn:c",
        provider_pid="urn:p",
        counterparty_did=CONSUMER_DID if role is P else PROVIDER_DID,
        counterparty_address="https://other.example/dsp",
        dataset_id="urn:dataset:1",
        offer=OFFER,
        agreement=AGREEMENT if state in (State.AGREED, State.VERIFIED, State.FINALIZED) else None,
        created_at=NOW,
        updated_at=NOW,
        version=3,
    )
    return ContractNegotiation(**{**values, **changes})


def message(kind: MessageKind, offer=COUNTER, **pids) -> Message:
    return Message(
        kind,
        consumer_pid=pids.get("consumer_pid", "urn:c"),
        provider_pid=pids.get("provider_pid", "urn:p"),
        offer=offer if kind in (K.CONTRACT_REQUEST, K.CONTRACT_OFFER) else None,
        agreement=AGREEMENT if kind is K.CONTRACT_AGREEMENT else None,
    )


def sender_did(receiver: Role) -> str:
    return CONSUMER_DID if receiver is P else PROVIDER_DID


def inbound(current, receiver: Role, msg: Message):
    return receive(current, receiver, msg, sender_did(receiver), now=LATER, new_id="urn:new")


MATRIX = [(role, state, kind) for role in Role for state in State for kind in MessageKind]


@pytest.mark.parametrize(("receiver", "state", "kind"), MATRIX, ids=lambda v: str(v.value))
def test_every_inbound_message_in_every_state(receiver, state, kind):
    outcome = inbound(negotiation(receiver, state), receiver, message(kind))
    if receiver.other not in SENDER[kind]:
        assert outcome == Refused(Reason.WRONG_ROLE, outcome.detail)
    elif kind is K.TERMINATION and state is State.TERMINATED:
        assert isinstance(outcome, AlreadyApplied)
    elif (kind, state) in ALLOWED:
        assert isinstance(outcome, Applied), outcome
        after = outcome.negotiation
        assert after.state is ALLOWED[(kind, state)]
        assert (after.version, after.updated_at, after.created_at) == (4, LATER, NOW)
        assert (after.last_message, after.last_sender) == (kind, receiver.other)
        if kind in (K.CONTRACT_REQUEST, K.CONTRACT_OFFER):
            assert after.offer == COUNTER  # a counter-request or counter-offer replaces it
        if kind is K.CONTRACT_AGREEMENT:
            assert after.agreement == AGREEMENT
    else:
        assert outcome == Refused(Reason.INVALID_TRANSITION, outcome.detail)


@pytest.mark.parametrize(("role", "state", "kind"), MATRIX, ids=lambda v: str(v.value))
def test_every_own_action_in_every_state(role, state, kind):
    current = negotiation(role, state)
    outcome = act(current, kind, now=LATER, offer=COUNTER, agreement=AGREEMENT)
    if role not in SENDER[kind]:
        assert outcome == Refused(Reason.WRONG_ROLE, outcome.detail)
    elif kind is K.TERMINATION and state is State.TERMINATED:
        assert outcome == AlreadyApplied(current)
    elif (kind, state) in ALLOWED:
        assert isinstance(outcome, Applied)
        assert outcome.negotiation.state is ALLOWED[(kind, state)]
        assert outcome.negotiation.last_sender is role
    else:
        assert outcome == Refused(Reason.INVALID_TRANSITION, outcome.detail)


@pytest.mark.parametrize(("receiver", "kind"), [(r, k) for r in Role for k in MessageKind])
def test_every_message_that_would_open_a_negotiation(receiver, kind):
    theirs = (
        {"consumer_pid": "urn:c", "provider_pid": None}
        if receiver is P
        else {
            "consumer_pid": None,
            "provider_pid": "urn:p",
        }
    )
    outcome = inbound(None, receiver, message(kind, **theirs))
    if receiver.other not in SENDER[kind]:
        assert isinstance(outcome, Refused) and outcome.reason is Reason.WRONG_ROLE
    elif (kind, None) in ALLOWED:
        assert isinstance(outcome, Applied)
        n = outcome.negotiation
        assert (n.id, n.role, n.state, n.version) == ("urn:new", receiver, ALLOWED[(kind, None)], 1)
        assert n.counterparty_did == sender_did(receiver)
        assert (n.consumer_pid, n.provider_pid) == (
            ("urn:c", "urn:new") if receiver is P else ("urn:new", "urn:p")
        )
        assert n.dataset_id == "urn:dataset:1" and n.offer == COUNTER
    else:
        assert isinstance(outcome, Refused) and outcome.reason is Reason.UNKNOWN_PROCESS


def test_an_opening_message_naming_our_pid_or_lacking_theirs_is_refused():
    assert inbound(None, P, message(K.CONTRACT_REQUEST)).reason is Reason.UNKNOWN_PROCESS
    no_pid = message(K.CONTRACT_REQUEST, consumer_pid=None, provider_pid=None)
    assert inbound(None, P, no_pid).reason is Reason.PID_MISMATCH
    no_offer = message(K.CONTRACT_REQUEST, offer=None, provider_pid=None)
    assert inbound(None, P, no_offer).reason is Reason.PID_MISMATCH


STEPS = [
    (kind, state) for (kind, state) in ALLOWED if state is not None and kind is not K.TERMINATION
]


@pytest.mark.parametrize(("kind", "state"), STEPS, ids=lambda v: str(v.value))
def test_the_same_message_again_is_refused_as_the_state_machine_says(kind, state):
    """DSP (the TCK's CN:03-04): a step's message re-delivered, byte for byte, is not allowed
    in the state it made; its sender asks our state instead (delivery.py)."""
    receiver = P if C in SENDER[kind] else C
    first = inbound(negotiation(receiver, state), receiver, message(kind))
    assert isinstance(first, Applied)
    again = inbound(first.negotiation, receiver, message(kind))
    assert again == Refused(Reason.INVALID_TRANSITION, again.detail)
    assert f"not allowed in state {first.negotiation.state.value}" in again.detail
    if kind in (K.CONTRACT_REQUEST, K.CONTRACT_OFFER):
        other = inbound(first.negotiation, receiver, message(kind, offer={**OFFER, "@id": "urn:x"}))
        assert isinstance(other, Refused) and other.reason is Reason.INVALID_TRANSITION


def test_an_opening_message_replayed_is_already_applied():
    opening = message(K.CONTRACT_REQUEST, provider_pid=None)
    created = inbound(None, P, opening).negotiation
    assert inbound(created, P, opening) == AlreadyApplied(created)
    changed = message(K.CONTRACT_REQUEST, offer=OFFER, provider_pid=None)
    assert inbound(created, P, changed).reason is Reason.INVALID_TRANSITION
    # after it moved on, the opening message no longer applies
    offered = act(created, K.CONTRACT_OFFER, now=LATER, offer=OFFER).negotiation
    assert inbound(offered, P, opening).reason is Reason.INVALID_TRANSITION
    # nor once anything happened since, even back in the state it made
    requested = inbound(offered, P, message(K.CONTRACT_REQUEST, provider_pid="urn:new", offer=COUNTER))
    assert requested.negotiation.state is State.REQUESTED
    assert inbound(requested.negotiation, P, opening).reason is Reason.INVALID_TRANSITION


@pytest.mark.parametrize(("kind", "state"), STEPS, ids=lambda v: str(v.value))
def test_our_own_step_taken_twice_is_already_applied(kind, state):
    """The operator's double click: nothing goes on the wire twice, and no error."""
    role = C if C in SENDER[kind] else P
    first = act(negotiation(role, state), kind, now=LATER, offer=COUNTER, agreement=AGREEMENT)
    assert isinstance(first, Applied)
    again = act(first.negotiation, kind, now=LATER, offer=COUNTER, agreement=AGREEMENT)
    assert again == AlreadyApplied(first.negotiation)


def test_an_opening_offer_replayed_is_already_applied():
    opening = message(K.CONTRACT_OFFER, consumer_pid=None)
    created = inbound(None, C, opening).negotiation
    assert inbound(created, C, opening) == AlreadyApplied(created)


def test_a_termination_after_termination_is_already_applied_whoever_sent_it():
    terminated = act(negotiation(P, State.OFFERED), K.TERMINATION, now=LATER).negotiation
    assert inbound(terminated, P, message(K.TERMINATION)) == AlreadyApplied(terminated)


@pytest.mark.parametrize("receiver", list(Role))
def test_pids_and_the_sender_must_match(receiver):
    current = negotiation(receiver, State.REQUESTED if receiver is P else State.OFFERED)
    kind = K.TERMINATION
    ours = "provider_pid" if receiver is P else "consumer_pid"
    theirs = "consumer_pid" if receiver is P else "provider_pid"
    assert (
        inbound(current, receiver, message(kind, **{ours: "urn:other"})).reason
        is Reason.PID_MISMATCH
    )
    assert (
        inbound(current, receiver, message(kind, **{theirs: "urn:other"})).reason
        is Reason.PID_MISMATCH
    )
    assert inbound(current, receiver, message(kind, **{theirs: None})).reason is Reason.PID_MISMATCH
    assert inbound(current, receiver, message(kind, **{ours: None})).reason is Reason.PID_MISMATCH
    stranger = receive(current, receiver, message(kind), "did:web:x", now=LATER, new_id="n")
    assert stranger.reason is Reason.UNKNOWN_PROCESS
    assert inbound(current, receiver.other, message(kind)).reason is Reason.UNKNOWN_PROCESS
    assert isinstance(inbound(current, receiver, message(kind)), Applied)


def test_only_a_request_or_offer_changes_the_offer_and_only_an_agreement_the_agreement():
    stray = Message(K.EVENT_ACCEPTED, "urn:c", "urn:p", offer=COUNTER, agreement=AGREEMENT)
    after = inbound(negotiation(P, State.OFFERED), P, stray).negotiation
    assert (after.state, after.offer, after.agreement) == (State.ACCEPTED, OFFER, None)


def test_an_agreement_without_its_agreement_is_refused():
    bare = Message(K.CONTRACT_AGREEMENT, "urn:c", "urn:p")
    assert inbound(negotiation(C, State.REQUESTED), C, bare).reason is Reason.INVALID_TRANSITION
    assert act(negotiation(P, State.REQUESTED), K.CONTRACT_AGREEMENT, now=LATER).reason is (
        Reason.INVALID_TRANSITION
    )


def test_a_consumer_learns_the_providers_pid_and_its_callback_from_its_first_message():
    mine = start(
        C,
        new_id="urn:c",
        counterparty_did=PROVIDER_DID,
        counterparty_address="https://p/dsp",
        offer=OFFER,
        now=NOW,
    )
    assert (mine.state, mine.provider_pid, mine.version) == (State.REQUESTED, None, 1)
    offer = Message(
        K.CONTRACT_OFFER, "urn:c", "urn:p", offer=COUNTER, callback_address="https://p/cb"
    )
    after = inbound(mine, C, offer).negotiation
    assert (after.provider_pid, after.counterparty_address, after.state) == (
        "urn:p",
        "https://p/cb",
        State.OFFERED,
    )
    assert inbound(after, C, Message(K.TERMINATION, "urn:c", "urn:q")).reason is Reason.PID_MISMATCH
    bound = bind_counterparty_pid(mine, "urn:p")
    assert isinstance(bound, Applied) and bound.negotiation.provider_pid == "urn:p"
    assert bind_counterparty_pid(bound.negotiation, "urn:p") == AlreadyApplied(bound.negotiation)
    assert bind_counterparty_pid(bound.negotiation, "urn:q").reason is Reason.PID_MISMATCH
    provided = start(
        P,
        new_id="urn:p",
        counterparty_did=CONSUMER_DID,
        counterparty_address="https://c",
        offer=OFFER,
        now=NOW,
    )
    assert (provided.state, provided.provider_pid, provided.consumer_pid) == (
        State.OFFERED,
        "urn:p",
        None,
    )


def test_message_kinds_carry_their_wire_names():
    assert K.EVENT_ACCEPTED.dsp_type == "ContractNegotiationEventMessage"
    assert (K.EVENT_ACCEPTED.event_type, K.EVENT_FINALIZED.event_type) == ("ACCEPTED", "FINALIZED")
    assert (K.TERMINATION.dsp_type, K.TERMINATION.event_type) == (
        "ContractNegotiationTerminationMessage",
        None,
    )


# The TCK scenarios, played between a provider and a consumer model. Each step: who sends,
# what, and whether it must be accepted. A refused step is checked on both sides: the receiver
# refuses it, and our own guard refuses to send it. "counter" is a request with a new offer.
OK, BAD = True, False
SCENARIOS = {
    "CN:01-01 CN_C:01-03": [(P, K.CONTRACT_OFFER, OK), (C, K.TERMINATION, OK)],
    "CN:01-02 CN_C:01-02": [(P, K.CONTRACT_OFFER, OK), (C, "counter", OK), (P, K.TERMINATION, OK)],
    "CN:01-03 CN_C:01-01": [
        (P, K.CONTRACT_OFFER, OK),
        (C, K.EVENT_ACCEPTED, OK),
        (P, K.CONTRACT_AGREEMENT, OK),
        (C, K.AGREEMENT_VERIFICATION, OK),
        (P, K.EVENT_FINALIZED, OK),
        (P, K.TERMINATION, BAD),
    ],
    "CN:01-04 CN_C:01-04": [
        (P, K.CONTRACT_AGREEMENT, OK),
        (C, K.AGREEMENT_VERIFICATION, OK),
        (P, K.EVENT_FINALIZED, OK),
    ],
    "CN:02-01 CN_C:02-01": [(P, K.TERMINATION, OK)],
    "CN:02-02 CN_C:02-02": [(C, K.TERMINATION, OK)],
    "CN:02-03 CN_C:02-03": [(P, K.CONTRACT_AGREEMENT, OK), (C, K.TERMINATION, OK)],
    "CN:02-04": [(P, K.CONTRACT_OFFER, OK), (C, K.TERMINATION, OK)],
    "CN:02-05 CN_C:02-04": [(P, K.CONTRACT_OFFER, OK), (P, K.TERMINATION, OK)],
    "CN:02-06 CN_C:02-05": [
        (P, K.CONTRACT_OFFER, OK),
        (C, K.EVENT_ACCEPTED, OK),
        (P, K.TERMINATION, OK),
    ],
    "CN:02-07 CN_C:02-06": [
        (P, K.CONTRACT_AGREEMENT, OK),
        (C, K.AGREEMENT_VERIFICATION, OK),
        (P, K.TERMINATION, OK),
    ],
    "CN:03-01": [
        (P, K.CONTRACT_AGREEMENT, OK),
        (C, K.AGREEMENT_VERIFICATION, OK),
        (P, K.EVENT_FINALIZED, OK),
        (C, K.TERMINATION, BAD),
    ],
    "CN:03-02": [(P, K.CONTRACT_OFFER, OK), (C, K.AGREEMENT_VERIFICATION, BAD)],
    "CN:03-03": [
        (P, K.CONTRACT_OFFER, OK),
        (C, K.EVENT_ACCEPTED, OK),
        (C, K.AGREEMENT_VERIFICATION, BAD),
    ],
    "CN:03-04": [(P, K.CONTRACT_OFFER, OK), (C, "counter", OK), (C, "counter2", BAD)],
    "CN_C:03-01": [(P, K.EVENT_FINALIZED, BAD)],
    "CN_C:03-02": [(P, K.CONTRACT_OFFER, OK), (P, K.CONTRACT_AGREEMENT, BAD)],
    "CN_C:03-03": [(P, K.CONTRACT_OFFER, OK), (P, K.EVENT_FINALIZED, BAD)],
    "CN_C:03-04": [
        (P, K.CONTRACT_OFFER, OK),
        (C, K.EVENT_ACCEPTED, OK),
        (P, K.EVENT_FINALIZED, BAD),
    ],
    "CN_C:03-05": [
        (P, K.CONTRACT_OFFER, OK),
        (C, K.EVENT_ACCEPTED, OK),
        (P, K.CONTRACT_OFFER, BAD),
    ],
    "CN_C:03-06": [
        (P, K.CONTRACT_OFFER, OK),
        (C, K.EVENT_ACCEPTED, OK),
        (P, K.CONTRACT_AGREEMENT, OK),
        (P, K.EVENT_FINALIZED, BAD),
    ],
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_tck_scenario(name):
    # every scenario opens with the consumer's request
    consumer = start(
        C,
        new_id="urn:c",
        counterparty_did=PROVIDER_DID,
        counterparty_address="https://p",
        offer=OFFER,
        now=NOW,
    )
    opening = Message(
        K.CONTRACT_REQUEST, consumer_pid="urn:c", offer=OFFER, callback_address="https://c"
    )
    provider = receive(None, P, opening, CONSUMER_DID, now=NOW, new_id="urn:p").negotiation
    consumer = bind_counterparty_pid(consumer, "urn:p").negotiation
    sides = {P: provider, C: consumer}
    for sender, what, ok in SCENARIOS[name]:
        kind = K.CONTRACT_REQUEST if what in ("counter", "counter2") else what
        offer = {"counter": COUNTER, "counter2": {**COUNTER, "@id": "urn:offer:3"}}.get(
            what, COUNTER
        )
        sent = act(sides[sender], kind, now=LATER, offer=offer, agreement=AGREEMENT)
        wire = Message(
            kind, "urn:c", "urn:p", offer=sent_offer(kind, offer), agreement=sent_agreement(kind)
        )
        got = receive(
            sides[sender.other], sender.other, wire, sender_did(sender.other), now=LATER, new_id="x"
        )
        if ok:
            assert isinstance(sent, Applied) and isinstance(got, Applied), (what, sent, got)
            assert sent.negotiation.state is got.negotiation.state
            sides = {sender: sent.negotiation, sender.other: got.negotiation}
        else:
            assert isinstance(sent, Refused) and isinstance(got, Refused), (what, sent, got)
            assert got.reason is Reason.INVALID_TRANSITION


def sent_offer(kind, offer):
    return offer if kind in (K.CONTRACT_REQUEST, K.CONTRACT_OFFER) else None


def sent_agreement(kind):
    return AGREEMENT if kind is K.CONTRACT_AGREEMENT else None
