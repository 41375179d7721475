"""RFC 6962 Merkle tree hashes (as CometBFT's crypto/merkle): domain-separated leaves/nodes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def leaf_hash(leaf: bytes) -> bytes:
    return _h(b"\x00" + leaf)


def inner_hash(left: bytes, right: bytes) -> bytes:
    return _h(b"\x01" + left + right)


def _split(n: int) -> int:
    """Largest power of two strictly less than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(items: Sequence[bytes]) -> bytes:
    return _root([leaf_hash(x) for x in items]) if items else _h(b"")


def _root(leaves: Sequence[bytes]) -> bytes:
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = _split(n)
    return inner_hash(_root(leaves[:k]), _root(leaves[k:]))


def proof(items: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path (sibling hashes, leaf-to-root) for items[index]."""
    if not 0 <= index < len(items):
        raise IndexError("leaf index out of range")
    return _proof([leaf_hash(x) for x in items], index)


def _proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return _proof(leaves[:k], index) + [_root(leaves[k:])]
    return _proof(leaves[k:], index - k) + [_root(leaves[:k])]


def verify(root_hash: bytes, leaf: bytes, index: int, total: int, path: Sequence[bytes]) -> bool:
    if not 0 <= index < total:
        return False
    try:
        return _from_path(leaf_hash(leaf), index, total, list(path)) == root_hash
    except IndexError:
        return False


def _from_path(h: bytes, index: int, total: int, path: list[bytes]) -> bytes:
    if total == 1:
        if path:
            raise IndexError("path too long")
        return h
    k = _split(total)
    sibling = path.pop()
    if index < k:
        return inner_hash(_from_path(h, index, k, path), sibling)
    return inner_hash(sibling, _from_path(h, index - k, total - k, path))
