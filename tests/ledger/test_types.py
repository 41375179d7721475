"""Encoding, Merkle hashes, keys, and the CometBFT-shaped types (validator set priorities)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import crypto, merkle
from ledger.encoding import decode, encode
from ledger.errors import DecodeError, InvalidError
from ledger.types import (
    PRECOMMIT,
    Block,
    Genesis,
    Header,
    Validator,
    ValidatorSet,
    Vote,
)

# ----------------------------------------------------------------------------- encoding


@pytest.mark.parametrize(
    "v",
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        127,
        128,
        -128,
        -129,
        2**63,
        -(2**70),
        b"",
        b"\x00\xff",
        "",
        "é",
        [1, [2, b"x"]],
        {"b": 1, "a": [None], "é": {"z": "y"}},
    ],
)
def test_encoding_round_trips(v: object) -> None:
    assert decode(encode(v)) == v


def test_encoding_is_canonical_and_order_independent() -> None:
    assert encode({"a": 1, "b": 2}) == encode({"b": 2, "a": 1})
    assert encode([1, 2]) == encode((1, 2))
    with pytest.raises(TypeError):
        encode(1.5)
    with pytest.raises(TypeError):
        encode({1: 2})


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"x",
        b"N\x00",  # unknown tag, trailing bytes
        b"i\x02\x00\x01",  # non-minimal integer
        b"i\x01\x00",  # zero is the empty integer
        b"i\x02\x00\x05",  # a positive integer with a leading zero byte
        b"s\x05ab",  # truncated
        b"d\x02s\x01bNs\x01aN",  # unsorted keys
        b"d\x02s\x01aNs\x01aN",  # duplicate keys
        b"l\xff\xff\xff\xff\x0f",  # count larger than the input
        b"s\x02\xff\xfe",  # invalid UTF-8
        b"i\x80\x00",  # non-minimal varint
        b"l\x01" * 100 + b"N",  # too deep
    ],
)
def test_decoding_refuses_non_canonical_or_malformed(bad: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(bad)


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=40) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_any_value_round_trips(v: object) -> None:
    assert decode(encode(v)) == v


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.binary(max_size=60), values.map(encode).flatmap(
    lambda raw: st.tuples(st.integers(0, len(raw)), st.integers(0, 255)).map(
        lambda cut: raw[:cut[0]] + bytes([cut[1]]) + raw[cut[0] + 1:]))))
def test_only_canonical_bytes_decode(raw: bytes) -> None:
    """Random or mutated bytes either fail with a DecodeError or are exactly the encoding of
    what they decode to (one value, one encoding)."""
    try:
        v = decode(raw)
    except DecodeError:
        return
    assert encode(v) == raw


def test_decoding_enforces_size_limit() -> None:
    with pytest.raises(DecodeError):
        decode(encode(b"x" * 100), max_size=50)


# ------------------------------------------------------------------------------- merkle


def test_merkle_matches_rfc6962() -> None:
    sha = lambda b: hashlib.sha256(b).digest()  # noqa: E731
    assert merkle.root([]) == sha(b"")
    assert (
        merkle.root([b"\x01\x02\x03"]).hex()
        == "054edec1d0211f624fed0cbca9d4f9400b0e491c43742af2c5b0abebf0c990d8"
    )  # CometBFT vector
    a, b, c = (sha(b"\x00" + x) for x in (b"a", b"b", b"c"))
    # Three leaves split 2 + 1 (largest power of two below n).
    assert merkle.root([b"a", b"b", b"c"]) == sha(b"\x01" + sha(b"\x01" + a + b) + c)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 13])
def test_merkle_proofs_verify_and_detect_tampering(n: int) -> None:
    items = [bytes([i]) * (i + 1) for i in range(n)]
    root = merkle.root(items)
    for i, item in enumerate(items):
        path = merkle.proof(items, i)
        assert merkle.verify(root, item, i, n, path)
        assert not merkle.verify(root, item + b"!", i, n, path)
        if n > 1:
            assert not merkle.verify(root, item, (i + 1) % n, n, path)


# ------------------------------------------------------------------------------- crypto


def test_signatures_and_addresses() -> None:
    k = crypto.PrivateKey.from_secret(b"t")
    assert k.address == hashlib.sha256(k.pub_key).digest()[:20]
    sig = k.sign(b"msg")
    assert crypto.verify(k.pub_key, b"msg", sig)
    assert not crypto.verify(k.pub_key, b"msh", sig)
    assert not crypto.verify(k.pub_key, b"msg", sig[:-1] + bytes([sig[-1] ^ 1]))
    assert not crypto.verify(k.pub_key[:5], b"msg", sig)


def test_vote_sign_bytes_include_chain_id() -> None:
    k = crypto.PrivateKey.from_secret(b"v")
    v = Vote(PRECOMMIT, 5, 0, bytes(32), 1000, k.address, 0).signed(k, "chain-a")
    assert v.verify("chain-a", k.pub_key)
    assert not v.verify("chain-b", k.pub_key)
    assert Vote.from_obj(decode(encode(v.to_obj()))) == v


# --------------------------------------------------------------------- validator set


def _named(name: bytes, power: int) -> Validator:
    v = Validator(hashlib.sha256(name).digest(), power)
    v.address = name
    return v


def test_proposer_selection_matches_cometbft() -> None:
    """CometBFT types/validator_set_test.go TestProposerSelection1, 99 steps."""
    vs = ValidatorSet([_named(b"foo", 1000), _named(b"bar", 300), _named(b"baz", 330)])
    vs._increment(1)  # as NewValidatorSet
    got = []
    for _ in range(99):
        got.append(vs.proposer().address.decode())
        vs._increment(1)
    expected = (
        "foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar "
        "foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar "
        "foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz "
        "foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo "
        "foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo"
    )
    assert " ".join(got) == expected


def test_proposer_frequency_is_proportional_to_power() -> None:
    keys = [crypto.PrivateKey.from_secret(bytes([i])).pub_key for i in range(3)]
    vs = ValidatorSet.new([(keys[0], 1), (keys[1], 2), (keys[2], 7)])
    counts: dict[bytes, int] = {}
    rounds = vs.copy()
    for _ in range(1000):
        p = rounds.proposer().pub_key
        counts[p] = counts.get(p, 0) + 1
        rounds._increment(1)
    assert [counts[k] for k in keys] == [100, 200, 700]
    assert vs.copy_increment(5).proposer().pub_key == vs.copy_increment(5).proposer().pub_key


def test_validator_updates_newcomer_waits_and_removal() -> None:
    keys = [crypto.PrivateKey.from_secret(bytes([i])).pub_key for i in range(4)]
    vs = ValidatorSet.new([(k, 10) for k in keys[:3]])
    vs2 = vs.update([(keys[3], 10)])
    newcomer = vs2.get(crypto.address(keys[3]))
    assert newcomer is not None and newcomer.proposer_priority < 0
    assert vs2.total_power == 40
    vs3 = vs2.update([(keys[0], 0)])
    assert vs3.get(crypto.address(keys[0])) is None and vs3.total_power == 30
    with pytest.raises(InvalidError):
        vs3.update([(keys[0], 0)])  # not a member
    with pytest.raises(InvalidError):
        vs.update([(keys[0], 0), (keys[1], 0), (keys[2], 0)])
    assert vs.hash() != vs2.hash()


def test_genesis_and_header_round_trip() -> None:
    k = crypto.PrivateKey.from_secret(b"g")
    g = Genesis("c", 1, ((k.pub_key, 5),))
    assert Genesis.from_obj(decode(encode(g.to_obj()))) == g
    h = Header(
        "c",
        1,
        1,
        b"",
        b"",
        b"d" * 32,
        b"v" * 32,
        b"n" * 32,
        b"c" * 32,
        b"a" * 32,
        b"r" * 32,
        b"e" * 32,
        k.address,
    )
    b = Block(h, (b"tx",), (), None)
    assert Block.from_obj(decode(encode(b.to_obj()))) == b
    assert Header.from_obj(h.to_obj()).hash() == h.hash()
    with pytest.raises(DecodeError):
        Header.from_obj({**h.to_obj(), "height": "1"})
    with pytest.raises(DecodeError):
        Block.from_obj({**b.to_obj(), "txs": ["not bytes"]})
