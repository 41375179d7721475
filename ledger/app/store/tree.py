"""The batched update and the proof walk of the versioned sparse Merkle tree.

Nodes are immutable and addressed by (version that wrote them, path); a path is the depth
(1 byte) followed by the first `depth` bits of a key hash, packed and zero-padded. An inner
node stores both children as (hash, version, is_leaf) so a walk reads only the nodes on its
path, never their siblings. A commit rewrites the nodes on the paths of its writes at the new
version; each node it replaces (or removes) is listed as stale since that version, which is
what makes pruning exact: stale since s means no version >= s can reach it.
"""

from __future__ import annotations

from collections.abc import Callable

from .proof import EMPTY_ROOT, bit, encode_proof, inner_hash, leaf_hash

Leaf = tuple[bytes, bytes]  # key hash, value hash
Inner = tuple[bytes, int, bool, bytes, int, bool]  # left (hash, version, leaf), right (...)
Node = Leaf | Inner
Ref = tuple[bytes, int, bool]  # a placed node: hash, version, is_leaf
# A subtree after the update: hash, version (-1: a leaf not yet written), is_leaf, key hash and
# value hash (known for unwritten leaves, else None until needed).
_Res = tuple[bytes, int, bool, bytes | None, bytes | None]
Reader = Callable[[int, bytes], Node]
_EMPTY: Ref = (EMPTY_ROOT, 0, False)


def path_of(kh: bytes, depth: int) -> bytes:
    # depth 256 (two keys sharing 255 bits) wraps to byte 0 but stays distinct by its length.
    n, r = divmod(depth, 8)
    if r:
        return bytes([depth]) + kh[:n] + bytes([kh[n] & (0xFF << (8 - r)) & 0xFF])
    return bytes([depth & 0xFF]) + kh[:n]


def _with_bit(kh: bytes, depth: int, b: int) -> bytes:
    i, m = depth >> 3, 0x80 >> (depth & 7)
    v = (kh[i] | m) if b else (kh[i] & ~m & 0xFF)
    return kh[:i] + bytes([v]) + kh[i + 1 :]


class Update:
    """One commit's worth of tree changes: `new` nodes at `version`, `stale` replaced ones."""

    def __init__(self, read: Reader, version: int) -> None:
        self.read = read
        self.version = version
        self.new: dict[bytes, Node] = {}
        self.stale: list[tuple[int, bytes]] = []
        self.khs: list[bytes] = []
        self.vhs: list[bytes | None] = []

    def apply(self, root: Ref | None, changes: list[tuple[bytes, bytes | None]]) -> Ref | None:
        """`changes`: (key hash, value hash or None to delete), sorted by key hash, distinct."""
        if not changes:
            return root
        self.khs = [c[0] for c in changes]
        self.vhs = [c[1] for c in changes]
        res = self._update(0, root, 0, len(changes))
        return None if res is None else self._place(res, 0)

    def _split(self, d: int, lo: int, hi: int) -> int:
        """First index in [lo, hi) whose key hash has bit d set (all share d bits before)."""
        khs = self.khs
        while lo < hi:
            mid = (lo + hi) >> 1
            if bit(khs[mid], d):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _update(self, d: int, old: Ref | None, lo: int, hi: int) -> _Res | None:
        khs, vhs = self.khs, self.vhs
        if old is None:
            ks = [k for k, v in zip(khs[lo:hi], vhs[lo:hi], strict=True) if v is not None]
            return self._fresh(d, ks, [v for v in vhs[lo:hi] if v is not None])
        path = path_of(khs[lo], d)
        self.stale.append((old[1], path))
        node = self.read(old[1], path)
        if old[2]:  # a leaf: merge it with the changes below this point
            okh, ovh = node[0], node[1]
            assert isinstance(okh, bytes) and isinstance(ovh, bytes)
            pairs = {k: v for k, v in zip(khs[lo:hi], vhs[lo:hi], strict=True)}
            pairs.setdefault(okh, ovh)
            items = sorted((k, v) for k, v in pairs.items() if v is not None)
            return self._fresh(d, [k for k, _ in items], [v for _, v in items])
        lh, lv, ll, rh, rv, rl = node  # type: ignore[misc]
        m = self._split(d, lo, hi)
        left: _Res | None = None if lh == EMPTY_ROOT else (lh, lv, ll, None, None)
        right: _Res | None = None if rh == EMPTY_ROOT else (rh, rv, rl, None, None)
        if m > lo:
            left = self._update(d + 1, None if left is None else (lh, lv, ll), lo, m)
        if hi > m:
            right = self._update(d + 1, None if right is None else (rh, rv, rl), m, hi)
        return self._combine(d, left, right, khs[lo])

    def _fresh(self, d: int, ks: list[bytes], vs: list[bytes]) -> _Res | None:
        n = len(ks)
        if n == 0:
            return None
        if n == 1:
            return (leaf_hash(ks[0], vs[0]), -1, True, ks[0], vs[0])
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) >> 1
            if bit(ks[mid], d):
                hi = mid
            else:
                lo = mid + 1
        left = self._fresh(d + 1, ks[:lo], vs[:lo])
        right = self._fresh(d + 1, ks[lo:], vs[lo:])
        return self._combine(d, left, right, ks[0])

    def _combine(self, d: int, left: _Res | None, right: _Res | None, kh: bytes) -> _Res | None:
        only = right if left is None else left if right is None else None
        if left is None and right is None:
            return None
        if only is not None and only[2]:  # a lone leaf moves up; a lone inner node stays below
            if only[1] >= 0:  # an unchanged leaf one level down moves up: read it, retire it
                side = 1 if left is None else 0
                cpath = path_of(_with_bit(kh, d, side), d + 1)
                self.stale.append((only[1], cpath))
                okh, ovh = self.read(only[1], cpath)[:2]
                assert isinstance(okh, bytes) and isinstance(ovh, bytes)
                return (only[0], -1, True, okh, ovh)
            return only
        lref = _EMPTY if left is None else self._place(left, d + 1)
        rref = _EMPTY if right is None else self._place(right, d + 1)
        h = inner_hash(lref[0], rref[0])
        self.new[path_of(kh, d)] = (lref[0], lref[1], lref[2], rref[0], rref[1], rref[2])
        return (h, self.version, False, None, None)

    def _place(self, res: _Res, d: int) -> Ref:
        if res[2] and res[1] < 0:
            kh, vh = res[3], res[4]
            assert kh is not None and vh is not None
            self.new[path_of(kh, d)] = (kh, vh)
            return (res[0], self.version, True)
        return (res[0], res[1], res[2])


def prove(read: Reader, root: Ref | None, kh: bytes) -> tuple[bytes, bool]:
    """The encoded proof for key hash `kh`, and whether the key is present."""
    sibs: list[bytes] = []
    ref, d = root, 0
    while ref is not None:
        node = read(ref[1], path_of(kh, d))
        if ref[2]:
            okh, ovh = node[0], node[1]
            assert isinstance(okh, bytes) and isinstance(ovh, bytes)
            own = okh == kh
            return encode_proof(sibs, None if own else (okh, ovh), own), own
        lh, lv, ll, rh, rv, rl = node  # type: ignore[misc]
        if bit(kh, d):
            sibs.append(lh)
            ref = None if rh == EMPTY_ROOT else (rh, rv, rl)
        else:
            sibs.append(rh)
            ref = None if lh == EMPTY_ROOT else (lh, lv, ll)
        d += 1
    return encode_proof(sibs, None, False), False


def walk(read: Reader, root: Ref | None) -> list[tuple[int, bytes]]:
    """Every (version, path) reachable from `root` (for audits and tests)."""
    out: list[tuple[int, bytes]] = []
    stack: list[tuple[Ref, bytes, int]] = [] if root is None else [(root, bytes(32), 0)]
    while stack:
        ref, kh, d = stack.pop()
        path = path_of(kh, d)
        out.append((ref[1], path))
        node = read(ref[1], path)
        if not ref[2]:
            lh, lv, ll, rh, rv, rl = node  # type: ignore[misc]
            if lh != EMPTY_ROOT:
                stack.append(((lh, lv, ll), _with_bit(kh, d, 0), d + 1))
            if rh != EMPTY_ROOT:
                stack.append(((rh, rv, rl), _with_bit(kh, d, 1), d + 1))
    return out
