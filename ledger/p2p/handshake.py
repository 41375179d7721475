"""Authenticated key exchange between nodes (a signed-transcript variant of CometBFT's
SecretConnection).

1. Both sides send ``MAGIC || ephemeral X25519 public key`` (40 bytes, in clear).
2. ``transcript = sha256(DOMAIN || len(network) || network || eph_initiator || eph_responder)``;
   ``HKDF-SHA256(x25519 shared secret, salt=transcript)`` gives one ChaCha20-Poly1305 key per
   direction. Different networks (chain ids) derive different keys, so they cannot talk.
3. Each side sends, encrypted under its send key (nonce 0), ``node_pubkey || sig`` where
   ``sig = Ed25519(node_key, DOMAIN_AUTH || role || transcript)``. The role byte stops a
   reflected signature from being accepted; the fresh ephemeral keys stop replays.
4. The peer's node id is ``hex(sha256(pubkey)[:20])``: proven by the signature. A dialer that
   expects an id refuses any other.

The resulting ``Session`` seals and opens frames with 96-bit nonces ``0^32 || counter_le64``,
one counter per direction, starting at 1 (0 was the auth message).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.errors import InvalidError
from ledger.privval import load_or_generate_key, public_bytes

MAGIC = b"CMNSP2P1"
DOMAIN = b"communs/p2p/v1/transcript"
DOMAIN_AUTH = b"communs/p2p/v1/auth"
HELLO_SIZE = len(MAGIC) + 32
AUTH_SIZE = 32 + 64 + 16
TAG_SIZE = 16
_NONCE = struct.Struct("<4xQ")
_AUTH_AAD = b"auth"


class HandshakeError(InvalidError):
    """The remote end failed to prove who it is (or is not who we expected)."""


def node_id(pubkey: bytes) -> str:
    return hashlib.sha256(pubkey).digest()[:20].hex()


class NodeKey:
    """A node's long-term Ed25519 identity on the p2p network (not its validator key)."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.private_key = key
        self.public_key = public_bytes(key)
        self.id = node_id(self.public_key)

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_generate(cls, path: str | os.PathLike[str]) -> NodeKey:
        return cls(load_or_generate_key(Path(path)))

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


class Session:
    """Per-connection AEAD state after a successful handshake."""

    def __init__(self, peer_pubkey: bytes, send_key: bytes, recv_key: bytes) -> None:
        self.peer_pubkey = peer_pubkey
        self.peer_id = node_id(peer_pubkey)
        self._send = ChaCha20Poly1305(send_key)
        self._recv = ChaCha20Poly1305(recv_key)
        self._send_n = 1
        self._recv_n = 1

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = _NONCE.pack(self._send_n)
        self._send_n += 1
        return self._send.encrypt(nonce, plaintext, aad)

    def open(self, ciphertext: bytes, aad: bytes) -> bytes:
        """Decrypt the next inbound frame; raises ``cryptography.exceptions.InvalidTag``."""
        nonce = _NONCE.pack(self._recv_n)
        self._recv_n += 1
        return self._recv.decrypt(nonce, ciphertext, aad)


def _transcript(network: bytes, eph_init: bytes, eph_resp: bytes) -> bytes:
    h = hashlib.sha256(DOMAIN)
    h.update(len(network).to_bytes(2, "big") + network)
    h.update(eph_init + eph_resp)
    return h.digest()


async def handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    key: NodeKey,
    *,
    initiator: bool,
    network: bytes = b"",
    expected_id: str | None = None,
    timeout: float = 5.0,
) -> Session:
    """Run the handshake on a fresh stream; raises ``HandshakeError`` on any failure."""
    try:
        return await asyncio.wait_for(
            _handshake(reader, writer, key, initiator, network, expected_id), timeout
        )
    except TimeoutError as exc:
        raise HandshakeError("handshake timed out") from exc
    except asyncio.IncompleteReadError as exc:
        raise HandshakeError("connection closed during handshake") from exc
    except (ConnectionError, OSError) as exc:
        raise HandshakeError(f"connection failed during handshake: {exc}") from exc


async def _handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    key: NodeKey,
    initiator: bool,
    network: bytes,
    expected_id: str | None,
) -> Session:
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes_raw()
    writer.write(MAGIC + eph_pub)
    await writer.drain()
    hello = await reader.readexactly(HELLO_SIZE)
    if hello[: len(MAGIC)] != MAGIC:
        raise HandshakeError("not a communs p2p peer (bad magic)")
    peer_eph = hello[len(MAGIC) :]
    try:
        shared = eph.exchange(X25519PublicKey.from_public_bytes(peer_eph))
    except ValueError as exc:  # low-order point: an all-zero secret would be predictable
        raise HandshakeError("invalid ephemeral key") from exc
    eph_i, eph_r = (eph_pub, peer_eph) if initiator else (peer_eph, eph_pub)
    transcript = _transcript(network, eph_i, eph_r)
    okm = HKDF(hashes.SHA256(), 64, salt=transcript, info=DOMAIN + b"/keys").derive(shared)
    k_i2r, k_r2i = okm[:32], okm[32:]
    send_key, recv_key = (k_i2r, k_r2i) if initiator else (k_r2i, k_i2r)
    my_role, peer_role = (b"I", b"R") if initiator else (b"R", b"I")

    sig = key.sign(DOMAIN_AUTH + my_role + transcript)
    nonce0 = _NONCE.pack(0)
    writer.write(ChaCha20Poly1305(send_key).encrypt(nonce0, key.public_key + sig, _AUTH_AAD))
    await writer.drain()
    sealed = await reader.readexactly(AUTH_SIZE)
    try:
        auth = ChaCha20Poly1305(recv_key).decrypt(nonce0, sealed, _AUTH_AAD)
    except InvalidTag as exc:
        raise HandshakeError("authentication failed (wrong network or tampered)") from exc
    peer_pub, peer_sig = auth[:32], auth[32:]
    try:
        Ed25519PublicKey.from_public_bytes(peer_pub).verify(
            peer_sig, DOMAIN_AUTH + peer_role + transcript
        )
    except (InvalidSignature, ValueError) as exc:
        raise HandshakeError("peer signature over the handshake is invalid") from exc
    session = Session(peer_pub, send_key, recv_key)
    if session.peer_id == key.id:
        raise HandshakeError("connected to ourselves")
    if expected_id is not None and session.peer_id != expected_id:
        raise HandshakeError(f"unexpected peer id {session.peer_id} (wanted {expected_id})")
    return session
