"""Transfer messages to and from DSP JSON-LD: every body we build passes the vendored DSP
2025-1 schemas (the upstream `#definitions` defect repaired), and decoding gives it back."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.transfer import codec
from connector.transfer.model import PUSH, MessageKind, start

EXAMPLES = Path("/work/shared/specs/dsp/2025-1/transfer/example")
NOW = datetime(2026, 11, 23, tzinfo=UTC)
ADDRESS = codec.data_address("https://c.example/in", {"authorization": "secret", "authType": "bearer"})


def process():
    p = start(new_id="urn:c:1", counterparty_did="did:web:p", counterparty_address="https://p/dsp",
              agreement_id="urn:a:1", dataset_id="urn:d:1", format=PUSH, data_address=ADDRESS, now=NOW,
              purpose="https://w3id.org/dpv#ResearchAndDevelopment")
    return replace(p, provider_pid="urn:p:1")


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_outbound_message_is_valid_and_decodes_back(kind):
    p = process()
    body = codec.encode(kind, p, callback="https://c/dsp/callback", data_address=ADDRESS, reason="why")
    assert codec.problems(kind.value, body) == []
    message = codec.decode(json.dumps(body), (kind.value,))
    assert message.kind is kind and message.consumer_pid == "urn:c:1"
    if kind is MessageKind.REQUEST:
        assert (message.agreement_id, message.format, message.purpose) == ("urn:a:1", PUSH, p.purpose)
        assert message.data_address == ADDRESS and message.callback_address == "https://c/dsp/callback"
    else:
        assert message.provider_pid == "urn:p:1"
    if kind in (MessageKind.SUSPENSION, MessageKind.TERMINATION):
        assert message.reason == "why"


@pytest.mark.skipif(not EXAMPLES.exists(), reason="the shared DSP examples are not here")
def test_the_upstream_examples_validate():
    for path in EXAMPLES.glob("*.json"):
        body = json.loads(path.read_text())
        assert codec.problems(body["@type"], body) == [], path.name


@pytest.mark.parametrize("text, expected", [
    ("{", "not valid JSON"), ("[]", "JSON object"),
    ('{"@type": "TransferStartMessage"}', "expected TransferCompletionMessage"),
    ('{"@type": "TransferCompletionMessage", "providerPid": 1}', "not a valid"),
])
def test_bad_bodies_are_refused_with_a_reason(text, expected):
    with pytest.raises(codec.CodecError, match=expected):
        codec.decode(text, ("TransferCompletionMessage",))


def test_properties_read_a_data_address():
    assert codec.properties(ADDRESS) == {"authorization": "secret", "authType": "bearer"}
    assert codec.properties(None) == {} and codec.properties({"endpointProperties": [{"x": 1}]}) == {}
