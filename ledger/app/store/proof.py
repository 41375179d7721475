"""Hashes of the sparse Merkle tree and its proofs: pure functions a light client can use alone.

The tree is binary over the 256 bits of ``sha256(key)``; a subtree holding one key is collapsed
into that key's leaf, so a path is about log2(n) deep. Domain-separated hashes:

    leaf  = sha256(0x00 | key_hash | sha256(value))
    inner = sha256(0x01 | left | right)
    empty subtree = 32 zero bytes (EMPTY_ROOT)

A proof lists the sibling hashes from the root down to where the key's path ends, then what
ends it: the key's own leaf (membership), nothing (absence) or another key's leaf sharing the
path (absence). Encoding: depth (2 bytes, big-endian), a bitmap of the non-empty siblings
(ceil(depth/8) bytes, root first, most significant bit first), those siblings (32 bytes each),
then a tag: 0 = empty, 1 = other leaf followed by its key hash and value hash, 2 = own leaf.
"""

from __future__ import annotations

import hashlib

PROOF_TYPE = "communs:smt:v1"
EMPTY_ROOT = bytes(32)

_TAG_EMPTY, _TAG_OTHER, _TAG_OWN = 0, 1, 2
_sha = hashlib.sha256


def key_hash(key: bytes) -> bytes:
    return _sha(key).digest()


def value_hash(value: bytes) -> bytes:
    return _sha(value).digest()


def leaf_hash(kh: bytes, vh: bytes) -> bytes:
    return _sha(b"\x00" + kh + vh).digest()


def inner_hash(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right).digest()


def bit(kh: bytes, depth: int) -> int:
    return (kh[depth >> 3] >> (7 - (depth & 7))) & 1


def encode_proof(siblings: list[bytes], end: tuple[bytes, bytes] | None, own: bool) -> bytes:
    """`siblings` root first; `end` the (key hash, value hash) of the leaf ending the path."""
    depth = len(siblings)
    bitmap = bytearray((depth + 7) // 8)
    kept = []
    for i, s in enumerate(siblings):
        if s != EMPTY_ROOT:
            bitmap[i >> 3] |= 0x80 >> (i & 7)
            kept.append(s)
    if own:
        tail = bytes([_TAG_OWN])
    elif end is None:
        tail = bytes([_TAG_EMPTY])
    else:
        tail = bytes([_TAG_OTHER]) + end[0] + end[1]
    return depth.to_bytes(2, "big") + bytes(bitmap) + b"".join(kept) + tail


def verify_proof(root: bytes, key: bytes, value: bytes | None, proof: bytes) -> bool:
    """True iff `proof` shows that `key` maps to `value` (None: is absent) under `root`."""
    try:
        return _verify(root, key, value, proof)
    except Exception:  # garbage of any shape is a failed proof, never an error
        return False


def _verify(root: bytes, key: bytes, value: bytes | None, proof: bytes) -> bool:
    proof = bytes(proof)
    depth = int.from_bytes(proof[:2], "big")
    if len(proof) < 3 or depth > 256:
        return False
    nbm = (depth + 7) // 8
    bitmap = proof[2 : 2 + nbm]
    pos = 2 + nbm
    present = [bool(bitmap[i >> 3] & (0x80 >> (i & 7))) for i in range(depth)]
    if len(bitmap) != nbm or (depth & 7 and bitmap[-1] & (0xFF >> (depth & 7))):
        return False  # short, or padding bits set: one proof has one encoding
    sib_end = pos + 32 * sum(present)
    tail = proof[sib_end:]
    kh = key_hash(key)
    if value is not None:
        if tail != bytes([_TAG_OWN]):
            return False
        h = leaf_hash(kh, value_hash(value))
    elif tail == bytes([_TAG_EMPTY]):
        h = EMPTY_ROOT
    elif len(tail) == 65 and tail[0] == _TAG_OTHER:
        other, ovh = tail[1:33], tail[33:65]
        if other == kh or any(bit(other, i) != bit(kh, i) for i in range(depth)):
            return False
        h = leaf_hash(other, ovh)
    else:
        return False
    sibs = []
    for p in present:
        if p:
            sibs.append(proof[pos : pos + 32])
            pos += 32
        else:
            sibs.append(EMPTY_ROOT)
    for i in range(depth - 1, -1, -1):
        h = inner_hash(sibs[i], h) if bit(kh, i) else inner_hash(h, sibs[i])
    return h == bytes(root)
