"""The transfer state machine: every state x message x sender, replays and pid checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from connector.negotiation.model import Role
from connector.transfer.model import (
    PULL,
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

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CONSUMER = "did:web:consumer.example"

# what is allowed: (state, message, sender) -> next state; everything else is refused
ALLOWED = {
    (State.REQUESTED, MessageKind.START, Role.PROVIDER): State.STARTED,
    (State.SUSPENDED, MessageKind.START, Role.PROVIDER): State.STARTED,  # when the provider suspended
    (State.SUSPENDED, MessageKind.START, Role.CONSUMER): State.STARTED,  # when the consumer suspended
    **{(State.STARTED, MessageKind.SUSPENSION, r): State.SUSPENDED for r in Role},
    **{(State.STARTED, MessageKind.COMPLETION, r): State.COMPLETED for r in Role},
    **{(s, MessageKind.TERMINATION, r): State.TERMINATED
       for s in (State.REQUESTED, State.STARTED, State.SUSPENDED) for r in Role},
}


def process(state: State, role: Role = Role.PROVIDER, suspended_by: Role | None = None) -> TransferProcess:
    return TransferProcess(
        id="urn:p:1" if role is Role.PROVIDER else "urn:c:1", role=role, state=state,
        consumer_pid="urn:c:1", provider_pid="urn:p:1", counterparty_did=CONSUMER if role is Role.PROVIDER else "did:web:p",
        counterparty_address="https://c/cb", agreement_id="urn:agreement:1", dataset_id="urn:dataset:1",
        format=PULL, data_address=None, created_at=NOW, updated_at=NOW, version=3,
        last_message=MessageKind.SUSPENSION if state is State.SUSPENDED else MessageKind.REQUEST,
        last_sender=suspended_by or Role.CONSUMER,
    )


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("kind", [k for k in MessageKind if k is not MessageKind.REQUEST])
@pytest.mark.parametrize("sender", list(Role))
@pytest.mark.parametrize("receiver_acts", [False, True])
def test_every_state_message_and_sender(state, kind, sender, receiver_acts):
    """The same guard for a message we receive and for the step we take ourselves."""
    suspended_by = sender if state is State.SUSPENDED else None
    if receiver_acts:  # our own step, as SENDER
        current = process(state, role=sender, suspended_by=suspended_by)
        outcome = act(current, kind, now=NOW)
    else:  # the counterparty's message to us
        current = process(state, role=sender.other, suspended_by=suspended_by)
        message = Message(kind, consumer_pid="urn:c:1", provider_pid="urn:p:1")
        did = current.counterparty_did
        outcome = receive(current, sender.other, message, did, now=NOW, new_id="x")
    wanted = ALLOWED.get((state, kind, sender))
    already = state is State.TERMINATED and kind is MessageKind.TERMINATION or (
        state is State.COMPLETED and kind is MessageKind.COMPLETION)
    if already:
        assert isinstance(outcome, AlreadyApplied)
    elif wanted is None:
        assert isinstance(outcome, Refused), outcome
        assert outcome.reason in (Reason.INVALID_TRANSITION, Reason.WRONG_ROLE)
    else:
        assert isinstance(outcome, Applied), outcome
        assert outcome.process.state is wanted and outcome.process.version == current.version + 1
        assert outcome.process.last_sender is sender


@pytest.mark.parametrize("resumer", list(Role))
def test_only_the_side_that_suspended_resumes(resumer):
    suspended = process(State.SUSPENDED, role=Role.PROVIDER, suspended_by=resumer.other)
    if resumer is Role.PROVIDER:
        outcome = act(suspended, MessageKind.START, now=NOW)
    else:
        outcome = receive(suspended, Role.PROVIDER, Message(MessageKind.START, "urn:c:1", "urn:p:1"), CONSUMER,
                          now=NOW, new_id="x")
    assert isinstance(outcome, Refused) and "suspended" in outcome.detail


def _request(**changes) -> Message:
    return replace(Message(MessageKind.REQUEST, consumer_pid="urn:c:1", agreement_id="urn:agreement:1",
                           format=PULL, callback_address="https://c/cb"), **changes)


def test_a_request_opens_a_process_and_its_replay_is_already_applied():
    opened = receive(None, Role.PROVIDER, _request(), CONSUMER, now=NOW, new_id="urn:p:9", dataset_id="urn:d")
    assert isinstance(opened, Applied)
    p = opened.process
    assert (p.state, p.provider_pid, p.consumer_pid, p.dataset_id) == (State.REQUESTED, "urn:p:9", "urn:c:1", "urn:d")
    assert isinstance(receive(p, Role.PROVIDER, _request(), CONSUMER, now=NOW, new_id="y"), AlreadyApplied)
    other = receive(p, Role.PROVIDER, _request(format="HttpData-PUSH"), CONSUMER, now=NOW, new_id="y")
    assert isinstance(other, Refused)  # the same pid with another request
    started = act(p, MessageKind.START, now=NOW).process
    assert receive(started, Role.PROVIDER, _request(), CONSUMER, now=NOW, new_id="y") == AlreadyApplied(started)


def test_pid_and_counterparty_checks():
    p = process(State.STARTED)
    wrong_ours = Message(MessageKind.COMPLETION, consumer_pid="urn:c:1", provider_pid="urn:p:2")
    assert receive(p, Role.PROVIDER, wrong_ours, CONSUMER, now=NOW, new_id="x").reason is Reason.PID_MISMATCH
    wrong_theirs = Message(MessageKind.COMPLETION, consumer_pid="urn:c:2", provider_pid="urn:p:1")
    assert receive(p, Role.PROVIDER, wrong_theirs, CONSUMER, now=NOW, new_id="x").reason is Reason.PID_MISMATCH
    right = Message(MessageKind.COMPLETION, consumer_pid="urn:c:1", provider_pid="urn:p:1")
    assert receive(p, Role.PROVIDER, right, "did:web:other", now=NOW, new_id="x").reason is Reason.UNKNOWN_PROCESS
    assert receive(None, Role.PROVIDER, right, CONSUMER, now=NOW, new_id="x").reason is Reason.UNKNOWN_PROCESS
    no_pid = _request(consumer_pid=None)
    assert isinstance(receive(None, Role.PROVIDER, no_pid, CONSUMER, now=NOW, new_id="x"), Refused)
    assert receive(None, Role.CONSUMER, _request(), CONSUMER, now=NOW, new_id="x").reason is Reason.WRONG_ROLE


def test_a_consumer_learns_the_provider_pid_once():
    mine = start(new_id="urn:c:1", counterparty_did="did:web:p", counterparty_address="https://p/dsp",
                 agreement_id="urn:a", dataset_id="urn:d", format=PULL, data_address=None, now=NOW)
    assert mine.provider_pid is None and mine.state is State.REQUESTED
    started = receive(mine, Role.CONSUMER, Message(MessageKind.START, "urn:c:1", "urn:p:7",
                      data_address={"endpoint": "https://p/data"}), "did:web:p", now=NOW, new_id="x")
    assert isinstance(started, Applied)
    assert started.process.provider_pid == "urn:p:7" and started.process.data_address == {"endpoint": "https://p/data"}
    assert isinstance(bind_provider_pid(started.process, "urn:p:7"), AlreadyApplied)
    assert isinstance(bind_provider_pid(started.process, "urn:p:8"), Refused)
    bound = bind_provider_pid(mine, "urn:p:7")
    assert isinstance(bound, Applied) and bound.process.version == mine.version + 1


def test_a_replayed_start_is_already_applied_and_a_different_one_refused():
    p = process(State.REQUESTED, role=Role.CONSUMER)
    start_msg = Message(MessageKind.START, "urn:c:1", "urn:p:1", data_address={"endpoint": "e1"})
    started = receive(p, Role.CONSUMER, start_msg, "did:web:p", now=NOW, new_id="x").process
    assert isinstance(receive(started, Role.CONSUMER, start_msg, "did:web:p", now=NOW, new_id="x"), AlreadyApplied)
    other = replace(start_msg, data_address={"endpoint": "e2"})
    assert isinstance(receive(started, Role.CONSUMER, other, "did:web:p", now=NOW, new_id="x"), Refused)


def test_suspension_and_termination_keep_their_reason():
    p = process(State.STARTED)
    suspended = act(p, MessageKind.SUSPENSION, now=NOW, reason="maintenance").process
    assert suspended.reason == "maintenance" and suspended.last_sender is Role.PROVIDER
    ended = act(suspended, MessageKind.TERMINATION, now=NOW, reason="expired").process
    assert ended.reason == "expired" and ended.state.final


def test_a_resume_clears_the_reason_of_the_suspension():
    suspended = act(process(State.STARTED), MessageKind.SUSPENSION, now=NOW, reason="maintenance").process
    resumed = act(suspended, MessageKind.START, now=NOW).process
    assert resumed.state is State.STARTED and resumed.reason is None
    assert act(resumed, MessageKind.COMPLETION, now=NOW).process.reason is None
