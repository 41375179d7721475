"""Which Range the data plane honours (RFC 9110): one byte range, when any If-Range matches."""

from __future__ import annotations

import pytest

from connector.transfer.ranges import applicable, resumes

ETAG, MODIFIED = '"17f-1b"', 1_700_000_000
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"  # MODIFIED as an HTTP date


@pytest.mark.parametrize(("header", "honoured"), [
    (None, None), ("bytes=0-3", "bytes=0-3"), ("bytes=10-", "bytes=10-"), ("bytes=-5", "bytes=-5"),
    (" BYTES=2-2 ", "bytes=2-2"), ("bytes=0-1,4-5", None), ("items=0-3", None), ("bytes=5-2", None),
    ("bytes=-", None), ("bytes=a-b", None), ("bytes = 0-3", None), ("", None),
])
def test_only_one_valid_byte_range_is_honoured(header, honoured):
    assert applicable(header, None) == honoured


@pytest.mark.parametrize(("validator", "matches"), [
    (ETAG, True), ("W/" + ETAG, False), ('"other"', False), (DATE, True),
    ("Tue, 14 Nov 2023 22:13:21 GMT", False), ("yesterday", False), ("", False),
])
def test_if_range_needs_an_exact_strong_validator(validator, matches):
    honoured = applicable("bytes=0-3", validator, etag=ETAG, modified=MODIFIED)
    assert honoured == ("bytes=0-3" if matches else None)
    assert applicable("bytes=0-3", validator) is None  # validators unknown: never a match


def test_a_resume_starts_past_byte_zero():
    assert [resumes(r) for r in (None, "bytes=0-", "bytes=00-9", "bytes=-5", "bytes=1-")] == [
        False, False, False, False, True]
