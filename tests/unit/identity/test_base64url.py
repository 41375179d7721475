"""Unpadded base64url: what JWS and JWK carry, and nothing else."""

from __future__ import annotations

import pytest

from connector.identity.base64url import decode, encode


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xfb\xff", bytes(range(256))])
def test_round_trip_without_padding(data):
    text = encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    if data:
        assert decode(text) == data


@pytest.mark.parametrize("text", ["", "YQ==", "a+b/", "ab cd", "ab\ncd", "é"])
def test_padding_other_alphabets_and_stray_characters_are_refused(text):
    with pytest.raises(ValueError):
        decode(text)
