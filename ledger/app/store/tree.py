"""The batched update and the proof walk of the versioned sparse Merkle tree.

Nodes are immutable records with a storage id (an increasing integer, never hashed): a leaf
holds (key hash, value hash), an inner node both children as (hash, id, is_leaf), so a walk
reads only the nodes on its path. A commit writes new records for the nodes on the paths of
its writes; unchanged subtrees are shared with the previous version by id. Each record it
replaces is listed as stale at the new version, which makes pruning exact: a record stale at
version s is reachable from no version >= s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .proof import EMPTY_ROOT, bit, encode_proof, inner_hash, leaf_hash

Leaf = tuple[bytes, bytes]  # key hash, value hash
Inner = tuple[bytes, int, bool, bytes, int, bool]  # left (hash, id, is_leaf), right (...)
Node = Leaf | Inner
Ref = tuple[bytes, int, bool]  # a node: hash, id, is_leaf
Reader = Callable[[int], Node]
_EMPTY: Ref = (EMPTY_ROOT, 0, False)


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


class Update:
    """One commit's worth of tree changes: `new` records from id `next_id` on, `stale` ids."""

    def __init__(self, read: Reader, next_id: int) -> None:
        self.read = read
        self.next_id = next_id
        self.new: dict[int, Node] = {}
        self.stale: list[int] = []
        self.khs: list[bytes] = []
        self.vhs: list[bytes | None] = []
        self._reuse: tuple[bytes, Ref] | None = None

    def apply(self, root: Ref | None, changes: list[tuple[bytes, bytes | None]]) -> Ref | None:
        """`changes`: (key hash, value hash or None to delete), sorted by key hash, distinct."""
        if not changes:
            return root
        self.khs = [c[0] for c in changes]
        self.vhs = [c[1] for c in changes]
        return self._update(0, root, 0, len(changes))

    def _new(self, node: Node) -> int:
        i = self.next_id
        self.next_id += 1
        self.new[i] = node
        return i

    def _update(self, d: int, old: Ref | None, lo: int, hi: int) -> Ref | None:
        khs, vhs = self.khs, self.vhs
        if old is None:
            ks = [k for k, v in zip(khs[lo:hi], vhs[lo:hi], strict=True) if v is not None]
            return self._fresh(d, ks, [v for v in vhs[lo:hi] if v is not None])
        node = self.read(old[1])
        if old[2]:  # a leaf: rebuild this subtree from it and the changes below this point
            okh, ovh = node[0], node[1]
            assert isinstance(okh, bytes) and isinstance(ovh, bytes)
            pairs = dict(zip(khs[lo:hi], vhs[lo:hi], strict=True))
            if okh in pairs:
                self.stale.append(old[1])
            else:
                pairs[okh], self._reuse = ovh, (okh, old)  # unchanged: keep its record
            items = sorted((k, v) for k, v in pairs.items() if v is not None)
            res = self._fresh(d, [k for k, _ in items], [v for _, v in items])
            self._reuse = None
            return res
        self.stale.append(old[1])
        lh, li, ll, rh, ri, rl = node  # type: ignore[misc]
        m = split(khs, d, lo, hi)
        left = None if lh == EMPTY_ROOT else (lh, li, ll)
        right = None if rh == EMPTY_ROOT else (rh, ri, rl)
        if m > lo:
            left = self._update(d + 1, left, lo, m)
        if hi > m:
            right = self._update(d + 1, right, m, hi)
        return self._combine(left, right)

    def _fresh(self, d: int, ks: list[bytes], vs: list[bytes]) -> Ref | None:
        n = len(ks)
        if n == 0:
            return None
        if n == 1:
            if self._reuse is not None and self._reuse[0] == ks[0]:
                return self._reuse[1]
            return (leaf_hash(ks[0], vs[0]), self._new((ks[0], vs[0])), True)
        m = split(ks, d, 0, n)
        left = self._fresh(d + 1, ks[:m], vs[:m])
        right = self._fresh(d + 1, ks[m:], vs[m:])
        return self._combine(left, right)

    def _combine(self, left: Ref | None, right: Ref | None) -> Ref | None:
        if left is None or right is None:
            only = right if left is None else left
            if only is None or only[2]:
                return only  # nothing, or a lone leaf that moves up (its record is unchanged)
        lref = left or _EMPTY
        rref = right or _EMPTY
        h = inner_hash(lref[0], rref[0])
        return (h, self._new((lref[0], lref[1], lref[2], rref[0], rref[1], rref[2])), False)


def prefetch(
    read_many: Callable[[list[int]], Mapping[int, Node]], root: Ref | None, khs: list[bytes]
) -> None:
    """Read, one tree level per call of `read_many`, every node an update of `khs` will visit."""
    frontier = [] if root is None or not khs else [(root, 0, len(khs))]
    d = 0
    while frontier:
        nodes = read_many([ref[1] for ref, _, _ in frontier])
        nxt = []
        for ref, lo, hi in frontier:
            if ref[2]:
                continue
            lh, li, ll, rh, ri, rl = nodes[ref[1]]  # type: ignore[misc]
            m = split(khs, d, lo, hi)
            if m > lo and lh != EMPTY_ROOT:
                nxt.append(((lh, li, ll), lo, m))
            if hi > m and rh != EMPTY_ROOT:
                nxt.append(((rh, ri, rl), m, hi))
        frontier, d = nxt, d + 1


def prove(read: Reader, root: Ref | None, kh: bytes) -> tuple[bytes, bool]:
    """The encoded proof for key hash `kh`, and whether the key is present."""
    sibs: list[bytes] = []
    ref, d = root, 0
    while ref is not None:
        node = read(ref[1])
        if ref[2]:
            okh, ovh = node[0], node[1]
            assert isinstance(okh, bytes) and isinstance(ovh, bytes)
            own = okh == kh
            return encode_proof(sibs, None if own else (okh, ovh), own), own
        lh, li, ll, rh, ri, rl = node  # type: ignore[misc]
        if bit(kh, d):
            sibs.append(lh)
            ref = None if rh == EMPTY_ROOT else (rh, ri, rl)
        else:
            sibs.append(rh)
            ref = None if lh == EMPTY_ROOT else (lh, li, ll)
        d += 1
    return encode_proof(sibs, None, False), False


def walk(read: Reader, root: Ref | None) -> list[int]:
    """Every node id reachable from `root` (for audits and tests)."""
    out: list[int] = []
    stack = [] if root is None else [root]
    while stack:
        ref = stack.pop()
        out.append(ref[1])
        if not ref[2]:
            lh, li, ll, rh, ri, rl = read(ref[1])  # type: ignore[misc]
            stack.extend((h, i, leaf) for h, i, leaf in ((lh, li, ll), (rh, ri, rl)) if i)
    return out
