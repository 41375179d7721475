"""Ed25519 keys and CometBFT-style addresses (first 20 bytes of SHA-256 of the public key)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from .errors import InvalidError

PUBKEY_SIZE = 32
SIG_SIZE = 64


def address(pub_key: bytes) -> bytes:
    return hashlib.sha256(pub_key).digest()[:20]


class PrivateKey:
    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise InvalidError("an Ed25519 seed is 32 bytes")
        self.seed = seed
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.pub_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.address = address(self.pub_key)

    @classmethod
    def generate(cls) -> PrivateKey:
        import os

        return cls(os.urandom(32))

    @classmethod
    def from_secret(cls, secret: bytes) -> PrivateKey:
        """Deterministic key for tests and the simulator."""
        return cls(hashlib.sha256(b"communs-ledger-key:" + secret).digest())

    def sign(self, msg: bytes) -> bytes:
        return self._key.sign(msg)


# Verifying is the hot path (every vote is checked by every node); a bounded cache of already
# verified (key, message, signature) triples makes re-deliveries and gossip relays free.
_CACHE: OrderedDict[bytes, bool] = OrderedDict()
_CACHE_MAX = 200_000


def _cache_key(pub_key: bytes, msg: bytes, sig: bytes) -> bytes:
    return hashlib.sha256(pub_key + sig + msg).digest()


def _remember(k: bytes, ok: bool) -> None:
    _CACHE[k] = ok
    _CACHE.move_to_end(k)
    if len(_CACHE) > _CACHE_MAX:
        _CACHE.popitem(last=False)


def verify(pub_key: bytes, msg: bytes, sig: bytes) -> bool:
    if len(pub_key) != PUBKEY_SIZE or len(sig) != SIG_SIZE:
        return False
    k = _cache_key(pub_key, msg, sig)
    hit = _CACHE.get(k)
    if hit is not None:
        return hit
    # libsodium first (about 2.5x faster here): what it accepts OpenSSL accepts too, so only
    # its refusals need the reference check, and the answer is OpenSSL's either way.
    ok = _sodium_valid(pub_key, msg, sig) or _openssl_valid(pub_key, msg, sig)
    _remember(k, ok)
    return ok


def _openssl_valid(pub_key: bytes, msg: bytes, sig: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(pub_key).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


# -- bulk verification off the event loop ----------------------------------------------------
# libsodium (PyNaCl) verifies about 3x faster than OpenSSL here and releases the GIL, so a
# worker thread checks transaction signatures while the loop keeps serving consensus. Only
# successes are cached: libsodium is the stricter of the two (it refuses non-canonical and
# small-order encodings), so a triple it accepts OpenSSL accepts too, and what it refuses is
# checked again by `verify`, which stays the reference.


def _sodium_valid(pub_key: bytes, msg: bytes, sig: bytes) -> bool:
    if len(pub_key) != PUBKEY_SIZE or len(sig) != SIG_SIZE:
        return False
    try:
        crypto_sign_open(sig + msg, pub_key)
        return True
    except (BadSignatureError, ValueError, TypeError):
        return False


Triple = tuple[bytes, bytes, bytes]


def check_many(triples: list[Triple]) -> list[bool]:
    """Verify without touching the cache: safe to call from a worker thread."""
    return [_sodium_valid(p, m, s) for p, m, s in triples]


def known_valid(pub_key: bytes, msg: bytes, sig: bytes) -> bool:
    """Already verified and found valid (a single dict read: safe from a worker thread)."""
    return _CACHE.get(_cache_key(pub_key, msg, sig)) is True


def remember_valid(triples: list[Triple]) -> None:
    """Record triples found valid by `check_many` (call on the thread that uses `verify`)."""
    for pub_key, msg, sig in triples:
        _remember(_cache_key(pub_key, msg, sig), True)
