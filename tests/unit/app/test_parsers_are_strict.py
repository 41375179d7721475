"""Every parser of what other parties send refuses hostile JSON with its own clear error
(defence in depth: the request middleware also checks DSP bodies first)."""

from __future__ import annotations

import json

import pytest

from connector.identity.base64url import encode as b64u_encode
from connector.identity.jose import decode_parts
from connector.negotiation import codec as negotiation_codec
from connector.selfdescription.parse import ParseProblem, decode_jwt, parse
from connector.transfer import codec as transfer_codec

NESTED = "[" * 5000 + "]" * 5000
SURROGATE = '{"@type": "\\ud800"}'


def _jwt(payload: str) -> str:
    header = b64u_encode(json.dumps({"alg": "EdDSA"}).encode())
    return f"{header}.{b64u_encode(payload.encode())}.c2ln"


@pytest.mark.parametrize("payload", [NESTED, SURROGATE, '{"exp": NaN}'])
def test_a_jwt_with_a_hostile_payload_is_a_value_error(payload):
    with pytest.raises(ValueError):
        decode_parts(_jwt(payload))


@pytest.mark.parametrize("codec", [negotiation_codec, transfer_codec])
@pytest.mark.parametrize("body", [NESTED, SURROGATE, b"\xff\xfe{}"])
def test_a_dsp_codec_refuses_hostile_json_as_a_codec_error(codec, body):
    with pytest.raises(codec.CodecError, match="not valid JSON"):
        codec.decode(body, ("ContractRequestMessage", "TransferRequestMessage"))


@pytest.mark.parametrize("document", [NESTED, SURROGATE, '{"@type": NaN}'])
def test_a_self_description_with_hostile_json_is_a_parse_problem(document):
    with pytest.raises(ParseProblem, match="not valid JSON"):
        parse(document)


def test_a_self_description_jwt_with_a_hostile_payload_is_a_parse_problem():
    with pytest.raises(ParseProblem, match="not base64url JSON"):
        decode_jwt(_jwt(SURROGATE))
