"""The batched update and the proof walk of the versioned sparse Merkle tree.

The tree is binary (see `proof`), but it is stored in chunks: a chunk record holds the binary
subtree rooted at a depth multiple of 4, down to 4 levels below, where deeper inner nodes are
referenced as (hash, chunk id); leaves are stored inline. A commit of 1,000 writes thus writes
a few thousand records, not ~8,000 nodes. Chunk ids are increasing storage integers, never
hashed. A commit writes new chunks along the paths of its writes, shares untouched chunks with
the previous version by id, and lists each chunk it replaced as stale at the new version:
pruning is exact, since a chunk stale at version s is reachable from no version >= s.

In memory a node is a tuple: leaf (0, hash, key_hash, value_hash); inner (1, hash, left,
right, raw) with children None when empty and `raw` its encoding when read from a chunk (so an
unchanged subtree is copied, not re-encoded); external (2, hash, chunk_id) for an unread chunk.
Chunk encoding, preorder: 0 empty | 1 kh vh | 2 hash left right | 3 hash id(8 bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .proof import EMPTY_ROOT, bit, encode_proof, inner_hash, leaf_hash

Node = tuple[Any, ...]
Reader = Callable[[int], Node]
SPAN = 4  # binary levels per chunk
_EMPTY = b"\x00"


def split(khs: list[bytes], d: int, lo: int, hi: int) -> int:
    """First index in [lo, hi) whose key hash has bit d set (all share d bits before)."""
    i, m = d >> 3, 0x80 >> (d & 7)
    while lo < hi:
        mid = (lo + hi) >> 1
        if khs[mid][i] & m:
            hi = mid
        else:
            lo = mid + 1
    return lo


def decode_chunk(data: bytes) -> Node:
    node, end = _decode(memoryview(data), 0)
    if end != len(data) or node is None:
        raise ValueError("a malformed tree chunk")
    return node


def _decode(data: memoryview, i: int) -> tuple[Node | None, int]:
    # Hashes and keys are copied out (they are compared and hashed); `raw` stays a view.
    tag = data[i]
    if tag == 1:
        kh, vh = bytes(data[i + 1 : i + 33]), bytes(data[i + 33 : i + 65])
        return (0, leaf_hash(kh, vh), kh, vh), i + 65
    if tag == 2:
        left, j = _decode(data, i + 33)
        right, j = _decode(data, j)
        return (1, bytes(data[i + 1 : i + 33]), left, right, data[i:j]), j
    if tag == 3:
        ext = (2, bytes(data[i + 1 : i + 33]), int.from_bytes(data[i + 33 : i + 41], "big"))
        return ext, i + 41
    if tag == 0:
        return None, i + 1
    raise ValueError(f"a tree chunk holds an unknown tag {tag}")


def _hash(node: Node | None) -> bytes:
    return EMPTY_ROOT if node is None else node[1]


class Update:
    """One commit's tree changes: `new` chunks (id -> encoding, id -> node), `stale` chunk ids."""

    def __init__(self, read: Reader, next_id: int) -> None:
        self.read = read
        self.next_id = next_id
        self.new: dict[int, bytes] = {}
        self.decoded: dict[int, Node] = {}
        self.stale: list[int] = []
        self.khs: list[bytes] = []
        self.vhs: list[bytes | None] = []

    def apply(self, root: Node | None, changes: list[tuple[bytes, bytes | None]]) -> Node | None:
        """`changes`: (key hash, value hash or None to delete), sorted by key hash, distinct.
        `root` and the result are external references (or None for the empty tree)."""
        if not changes:
            return root
        self.khs = [c[0] for c in changes]
        self.vhs = [c[1] for c in changes]
        top = self._update(0, root, 0, len(changes))
        return None if top is None else self._chunk(top)

    def _update(self, d: int, old: Node | None, lo: int, hi: int) -> Node | None:
        khs, vhs = self.khs, self.vhs
        if old is None:
            ks = [k for k, v in zip(khs[lo:hi], vhs[lo:hi], strict=True) if v is not None]
            return self._fresh(d, ks, [v for v in vhs[lo:hi] if v is not None])
        if old[0] == 2:  # a chunk on a changed path: read it, it will be replaced
            self.stale.append(old[2])
            old = self.read(old[2])
        if old[0] == 0:  # a leaf: rebuild this subtree from it and the changes below here
            if hi - lo == 1 and khs[lo] == old[2]:  # the common case: this key's new value
                vh = vhs[lo]
                return None if vh is None else (0, leaf_hash(old[2], vh), old[2], vh)
            pairs = dict(zip(khs[lo:hi], vhs[lo:hi], strict=True))
            pairs.setdefault(old[2], old[3])
            items = sorted((k, v) for k, v in pairs.items() if v is not None)
            return self._fresh(d, [k for k, _ in items], [v for _, v in items])
        left, right = old[2], old[3]
        m = split(khs, d, lo, hi)
        if m > lo:
            left = self._update(d + 1, left, lo, m)
        if hi > m:
            right = self._update(d + 1, right, m, hi)
        return _combine(left, right)

    def _fresh(self, d: int, ks: list[bytes], vs: list[bytes]) -> Node | None:
        n = len(ks)
        if n == 0:
            return None
        if n == 1:
            return (0, leaf_hash(ks[0], vs[0]), ks[0], vs[0])
        m = split(ks, d, 0, n)
        return _combine(self._fresh(d + 1, ks[:m], vs[:m]), self._fresh(d + 1, ks[m:], vs[m:]))

    def _chunk(self, node: Node) -> Node:
        """Write `node` (a chunk root) and the new chunks below it; its external reference."""
        data, decoded = self._encode(node, 0)
        assert decoded is not None
        cid = self.next_id
        self.next_id += 1
        self.new[cid] = data
        self.decoded[cid] = decoded
        return (2, node[1], cid)

    def _encode(self, node: Node | None, rel: int) -> tuple[bytes, Node | None]:
        if node is None:
            return _EMPTY, None
        kind = node[0]
        if kind == 0:
            return b"\x01" + node[2] + node[3], node
        if rel == SPAN:
            ext = node if kind == 2 else self._chunk(node)
            return b"\x03" + ext[1] + ext[2].to_bytes(8, "big"), ext
        if node[4] is not None:  # unchanged since read: copy its encoding
            return bytes(node[4]), node
        ldata, left = self._encode(node[2], rel + 1)
        rdata, right = self._encode(node[3], rel + 1)
        data = b"\x02" + node[1] + ldata + rdata
        return data, (1, node[1], left, right, data)


def _combine(left: Node | None, right: Node | None) -> Node | None:
    if left is None or right is None:
        only = right if left is None else left
        if only is None or only[0] == 0:
            return only  # nothing, or a lone leaf that moves up
    return (1, inner_hash(_hash(left), _hash(right)), left, right, None)


def prefetch(
    read_many: Callable[[list[int]], Mapping[int, Node]], root: Node | None, khs: list[bytes]
) -> None:
    """Read, one chunk level per call of `read_many`, every chunk an update of `khs` visits."""
    frontier = [] if root is None or not khs else [(root, 0, 0, len(khs))]
    while frontier:
        chunks = read_many([ext[2] for ext, _, _, _ in frontier])
        nxt: list[tuple[Node, int, int, int]] = []
        for ext, d, lo, hi in frontier:
            _below(chunks[ext[2]], d, lo, hi, khs, nxt)
        frontier = nxt


def _below(node: Node | None, d: int, lo: int, hi: int, khs: list[bytes], out: list) -> None:
    if node is None or node[0] == 0:
        return
    if node[0] == 2:
        out.append((node, d, lo, hi))
        return
    m = split(khs, d, lo, hi)
    if m > lo:
        _below(node[2], d + 1, lo, m, khs, out)
    if hi > m:
        _below(node[3], d + 1, m, hi, khs, out)


def prove(read: Reader, root: Node | None, kh: bytes) -> tuple[bytes, bool]:
    """The encoded proof for key hash `kh`, and whether the key is present."""
    sibs: list[bytes] = []
    node, d = root, 0
    while node is not None:
        if node[0] == 2:
            node = read(node[2])
        if node[0] == 0:
            own = node[2] == kh
            return encode_proof(sibs, None if own else (node[2], node[3]), own), own
        if bit(kh, d):
            sibs.append(_hash(node[2]))
            node = node[3]
        else:
            sibs.append(_hash(node[3]))
            node = node[2]
        d += 1
    return encode_proof(sibs, None, False), False


def walk(read: Reader, root: Node | None) -> list[int]:
    """Every chunk id reachable from `root` (for audits and tests)."""
    out: list[int] = []
    stack = [] if root is None else [root]
    while stack:
        node = stack.pop()
        if node[0] == 2:
            out.append(node[2])
            node = read(node[2])
        if node[0] == 1:
            stack.extend(c for c in (node[2], node[3]) if c is not None)
    return out
