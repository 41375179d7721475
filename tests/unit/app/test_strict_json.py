"""Strict JSON for what other parties send: each refusal is a ValueError with a reason."""

from __future__ import annotations

import json

import pytest

from connector import strictjson
from connector.strictjson import BadJson


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests deeper than 64"),  # json.loads: RecursionError
        ("[" * 65 + "]" * 65, "nests deeper than 64"),  # json.loads accepts it; walkers may not
        ('{"a":' * 65 + "1" + "}" * 65, "nests deeper than 64"),
        ('{"name": "\\ud800"}', "lone surrogate (\\ud800)"),
        ('{"\\udfff": 1}', "lone surrogate (\\udfff)"),
        ('["ok", ["\\udc00x"]]', "lone surrogate (\\udc00)"),
        ('"\\ud800"', "lone surrogate"),
        ('{"n": NaN}', "NaN is not a JSON value"),
        ("-Infinity", "-Infinity is not a JSON value"),
        (b'{"a": "\xff"}', "not UTF-8 (byte 7)"),
        (b"\xef\xbb\xbf{}", "BOM"),
        ("{not json", "Expecting property name"),
        ("1" * 5000, "4300 digits"),
    ],
)
def test_refused(text, why):
    with pytest.raises(BadJson) as caught:
        strictjson.loads(text)
    assert why in str(caught.value)
    assert isinstance(caught.value, ValueError)  # callers catching json's errors catch these


def test_what_json_means_still_loads():
    assert strictjson.loads("[" * 64 + "]" * 64) == json.loads("[" * 64 + "]" * 64)
    document = {"title": "qualité de l'air 😀", "keywords": ["a", {"b": [1, 2.5, None, True]}]}
    assert strictjson.loads(json.dumps(document)) == document
    assert strictjson.loads(json.dumps(document, ensure_ascii=False).encode()) == document
    assert strictjson.loads('"\\ud83d\\ude00"') == "😀"  # an escaped pair is one character
    assert strictjson.loads("[1]", max_depth=1) == [1]
    with pytest.raises(BadJson):
        strictjson.loads("[[1]]", max_depth=1)
