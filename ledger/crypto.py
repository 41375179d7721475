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


def verify(pub_key: bytes, msg: bytes, sig: bytes) -> bool:
    if len(pub_key) != PUBKEY_SIZE or len(sig) != SIG_SIZE:
        return False
    k = hashlib.sha256(pub_key + sig + msg).digest()
    hit = _CACHE.get(k)
    if hit is not None:
        return hit
    try:
        Ed25519PublicKey.from_public_bytes(pub_key).verify(sig, msg)
        ok = True
    except (InvalidSignature, ValueError):
        ok = False
    _CACHE[k] = ok
    if len(_CACHE) > _CACHE_MAX:
        _CACHE.popitem(last=False)
    return ok
