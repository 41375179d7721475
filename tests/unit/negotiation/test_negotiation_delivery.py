"""What a counterparty's state says about a message it refused on a retry (delivery.py): taken
before only in the state the message leads to or one reached only through it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.negotiation.delivery import reached, state_of
from connector.negotiation.model import ContractNegotiation, MessageKind, Role, State

K, S = MessageKind, State
CTX = ["https://w3id.org/dspace/2025/1/context.jsonld"]

TAKEN = {
    K.CONTRACT_REQUEST: {S.REQUESTED, S.AGREED, S.VERIFIED, S.FINALIZED},
    K.CONTRACT_OFFER: {S.OFFERED, S.ACCEPTED, S.AGREED, S.VERIFIED, S.FINALIZED},
    K.EVENT_ACCEPTED: {S.ACCEPTED, S.AGREED, S.VERIFIED, S.FINALIZED},
    K.CONTRACT_AGREEMENT: {S.AGREED, S.VERIFIED, S.FINALIZED},
    K.AGREEMENT_VERIFICATION: {S.VERIFIED, S.FINALIZED},
    K.EVENT_FINALIZED: {S.FINALIZED},
    K.TERMINATION: {S.TERMINATED},
}


@pytest.mark.parametrize(("kind", "theirs"), [(k, s) for k in MessageKind for s in State], ids=str)
def test_which_states_prove_a_message_was_taken(kind, theirs):
    # REQUESTED and OFFERED lead to each other: neither proves the other; TERMINATED proves nothing
    assert reached(kind, theirs) is (theirs in TAKEN[kind])


def ours() -> ContractNegotiation:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return ContractNegotiation(
        id="urn:c", role=Role.CONSUMER, state=S.REQUESTED, consumer_pid="urn:c", provider_pid="urn:p",
        counterparty_did="did:web:p", counterparty_address="https://p/dsp", dataset_id="urn:d",
        offer={}, agreement=None, created_at=now, updated_at=now)


@pytest.mark.parametrize(("body", "expected"), [
    ({"@context": CTX, "@type": "ContractNegotiation", "consumerPid": "urn:c", "providerPid": "urn:p", "state": "AGREED"}, S.AGREED),
    ({"@context": CTX, "@type": "ContractNegotiation", "consumerPid": "urn:c", "providerPid": "urn:p", "state": "dspace:AGREED"}, None),
    ({"@context": CTX, "@type": "ContractNegotiation", "consumerPid": "urn:other", "providerPid": "urn:p", "state": "AGREED"}, None),
    ({"@context": CTX, "@type": "ContractNegotiation", "consumerPid": "urn:c", "providerPid": "urn:p", "state": "HAPPY"}, None),
    ({"@context": CTX, "@type": "ContractNegotiationError", "consumerPid": "urn:c", "providerPid": "urn:p", "code": "404"}, None),
    (["AGREED"], None),
])
def test_the_state_in_an_answer_about_our_process(body, expected):
    assert state_of(body, ours()) is expected
