"""The DSP 2025-1 negotiation codec: the spec's examples decode, what we encode validates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.negotiation import codec
from connector.negotiation.model import Message, MessageKind, Role, start

EXAMPLES = Path(__file__).parents[3] / "connector" / "negotiation" / "schemas"
SPEC = Path("/work/shared/specs/dsp/2025-1/negotiation/example")
MESSAGES = [
    "contract-request-message.json", "contract-request-message_initial.json",
    "contract-offer-message.json", "contract-offer-message_initial.json",
    "contract-agreement-message.json", "contract-agreement-message-full.json",
    "contract-agreement-verification-message.json", "contract-negotiation-event-message.json",
    "contract-negotiation-termination-message.json",
]
ALL = tuple(t for t in codec.SCHEMAS if t.endswith("Message"))


@pytest.mark.skipif(not SPEC.exists(), reason="the DSP spec examples are not on this machine")
@pytest.mark.parametrize("name", MESSAGES)
def test_spec_examples_decode_and_encode_back(name):
    text = (SPEC / name).read_text()
    message = codec.decode(text, ALL)
    original = json.loads(text)
    assert message.kind.dsp_type == original["@type"]
    assert message.consumer_pid == original.get("consumerPid")
    encoded = codec.encode(message)
    assert not codec.problems(original["@type"], encoded)
    assert codec.decode(json.dumps(encoded), ALL) == message


def test_event_kinds_and_signature_travel_beside_the_agreement():
    event = {"@context": [codec.DSP_CONTEXT], "@type": "ContractNegotiationEventMessage",
             "providerPid": "p", "consumerPid": "c", "eventType": "FINALIZED"}
    assert codec.decode(json.dumps(event), ALL).kind is MessageKind.EVENT_FINALIZED
    agreement = {"@id": "urn:a", "@type": "Agreement", "target": "urn:t", "assigner": "did:web:p",
                 "assignee": "did:web:c", "permission": [{"action": "use"}], codec.SIGNATURE: "a.b.c"}
    body = codec.encode(Message(MessageKind.CONTRACT_AGREEMENT, "c", "p", agreement=agreement))
    assert body[codec.SIGNATURE] == "a.b.c" and codec.SIGNATURE not in body["agreement"]
    assert not codec.problems("ContractAgreementMessage", body)
    assert codec.decode(json.dumps(body), ALL).agreement == agreement


@pytest.mark.parametrize("text", [
    "{not json", "[]", "null", '"x"',
    json.dumps({"@context": [codec.DSP_CONTEXT], "@type": "CatalogRequestMessage"}),
    json.dumps({"@context": [codec.DSP_CONTEXT], "@type": "ContractRequestMessage", "consumerPid": "c"}),
    json.dumps({"@context": [codec.DSP_CONTEXT], "@type": "ContractNegotiationEventMessage",
                "providerPid": "p", "consumerPid": "c", "eventType": "DONE"}),
    json.dumps({"@type": "ContractAgreementVerificationMessage", "providerPid": "p", "consumerPid": "c"}),
])
def test_bad_bodies_are_refused(text):
    with pytest.raises(codec.CodecError):
        codec.decode(text, ALL)


def test_termination_reason_negotiation_and_error_bodies_validate():
    body = codec.encode(Message(MessageKind.TERMINATION, "c", "p"), reason="no such dataset")
    assert body["reason"] == ["no such dataset"] and not codec.problems("ContractNegotiationTerminationMessage", body)
    now = datetime.now(UTC)
    n = start(Role.CONSUMER, new_id="c", counterparty_did="did:web:p", counterparty_address="http://p/dsp",
              offer={"@type": "Offer", "permission": [{"action": "use"}]}, now=now)
    shown = codec.negotiation_json(n)
    assert shown["state"] == "REQUESTED" and not codec.problems("ContractNegotiation", shown)
    error = codec.error_json(404, "no such negotiation", provider_pid="p")
    assert not codec.problems("ContractNegotiationError", error)


def test_the_vendored_schemas_are_the_published_ones():
    for path in EXAMPLES.glob("contract-*.json"):
        spec = SPEC.parent / path.name
        if spec.exists():
            assert path.read_bytes() == spec.read_bytes(), path.name
