"""`crypto.verify` checks with libsodium first and asks OpenSSL only about what libsodium
refuses: its answers must stay OpenSSL's on valid, forged and malformed signatures."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger import crypto

# The group order L: adding it to S gives a non-canonical signature of the same equation.
L = 2**252 + 27742317777372353535851937790883648493


def openssl(pub: bytes, msg: bytes, sig: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


def cases() -> list[tuple[str, bytes, bytes, bytes]]:
    k = crypto.PrivateKey.from_secret(b"verify")
    other = crypto.PrivateKey.from_secret(b"other")
    msg = b"a transaction's sign bytes"
    sig = k.sign(msg)
    s = int.from_bytes(sig[32:], "little")
    high_s = sig[:32] + (s + L).to_bytes(32, "little")
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    identity = (1).to_bytes(32, "little")  # a small-order public key
    return [("valid", k.pub_key, msg, sig),
            ("other message", k.pub_key, msg + b"!", sig),
            ("other key", other.pub_key, msg, sig),
            ("flipped R", k.pub_key, msg, flipped),
            ("non-canonical S", k.pub_key, msg, high_s),
            ("small-order key", identity, msg, bytes(64)),
            ("short signature", k.pub_key, msg, sig[:63]),
            ("zero key", bytes(32), msg, sig)]


@pytest.mark.parametrize("name,pub,msg,sig", cases(), ids=[c[0] for c in cases()])
def test_verify_answers_as_openssl(name: str, pub: bytes, msg: bytes, sig: bytes) -> None:
    crypto._CACHE.clear()  # the check itself, not a remembered answer
    assert crypto.verify(pub, msg, sig) is openssl(pub, msg, sig)
    assert crypto.verify(pub, msg, sig) is openssl(pub, msg, sig)  # and from the cache


def test_valid_signature_accepted_and_forgery_refused() -> None:
    crypto._CACHE.clear()
    k = crypto.PrivateKey.from_secret(b"verify")
    assert crypto.verify(k.pub_key, b"m", k.sign(b"m"))
    assert not crypto.verify(k.pub_key, b"n", k.sign(b"m"))
