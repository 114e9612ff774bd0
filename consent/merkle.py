"""RFC 9162 §2.1 Merkle hash trees: hashing, proofs, proof verification, incremental roots.

Hashes are raw 32-byte SHA-256 digests. Leaf index 0 is the first leaf. Proof *generation* takes the
full list of leaf hashes and raises ValueError on impossible arguments (a programming error); proof
*verification* faces untrusted input and returns a ProofResult with a reason instead.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node = SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) for any n, SHA-256("") for the empty tree."""
    tree = CompactTree()
    for h in leaf_hashes:
        tree.append(h)
    return tree.root()


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf sibling first."""
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"leaf index {index} outside a tree of size {len(leaf_hashes)}")
    path: list[bytes] = []
    lo, hi = 0, len(leaf_hashes)
    # Walk down from the root; each step records the sibling subtree, so reverse at the end.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            path.append(root(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root(leaf_hashes[lo : lo + k]))
            lo = lo + k
    path.reverse()
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1; empty when m is 0 or n."""
    n = len(leaf_hashes)
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} outside 0..{n}")
    if old_size in (0, n):
        return []
    return _subproof(leaf_hashes, old_size, 0, n, True)


def _subproof(d: Sequence[bytes], m: int, lo: int, hi: int, have_root: bool) -> list[bytes]:
    # SUBPROOF(m, D[lo:hi], b); recursion depth is log2(n).
    if m == hi - lo:
        return [] if have_root else [root(d[lo:hi])]
    k = _split(hi - lo)
    if m <= k:
        return _subproof(d, m, lo, lo + k, have_root) + [root(d[lo + k : hi])]
    return _subproof(d, m - k, lo + k, hi, False) + [root(d[lo : lo + k])]


class ProofReason(enum.StrEnum):
    OK = "ok"
    MALFORMED_HASH = "malformed_hash"
    INDEX_OUT_OF_RANGE = "index_out_of_range"
    SIZES_OUT_OF_ORDER = "sizes_out_of_order"
    EMPTY_PROOF = "empty_proof"
    UNEXPECTED_PROOF = "unexpected_proof"
    WRONG_PROOF_LENGTH = "wrong_proof_length"
    ROOT_MISMATCH = "root_mismatch"
    OLD_ROOT_MISMATCH = "old_root_mismatch"
    NEW_ROOT_MISMATCH = "new_root_mismatch"


@dataclass(frozen=True, slots=True)
class ProofResult:
    reason: ProofReason
    description: str

    @property
    def ok(self) -> bool:
        return self.reason is ProofReason.OK

    def __bool__(self) -> bool:
        return self.ok


_OK = ProofResult(ProofReason.OK, "proof verified")


def _fail(reason: ProofReason, description: str) -> ProofResult:
    return ProofResult(reason, description)


def _bad_hashes(*groups: Sequence[bytes]) -> bool:
    return any(not isinstance(h, bytes) or len(h) != HASH_SIZE for g in groups for h in g)


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root_hash: bytes
) -> ProofResult:
    """RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` under `root_hash` of size `tree_size`?"""
    if _bad_hashes([leaf, root_hash], proof):
        return _fail(ProofReason.MALFORMED_HASH, "every hash must be 32 bytes")
    if not 0 <= index < tree_size:  # step 1
        return _fail(ProofReason.INDEX_OUT_OF_RANGE, f"index {index} not below tree size {tree_size}")
    fn, sn, r = index, tree_size - 1, leaf  # steps 2-3
    for p in proof:  # step 4
        if sn == 0:
            return _fail(ProofReason.WRONG_PROOF_LENGTH, "inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # step 5
        return _fail(ProofReason.WRONG_PROOF_LENGTH, "inclusion proof is shorter than the tree is deep")
    if not hmac.compare_digest(r, root_hash):
        return _fail(ProofReason.ROOT_MISMATCH, "proof leads to a different root hash")
    return _OK


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> ProofResult:
    """RFC 9162 §2.1.4.2, plus the trivial cases the RFC leaves out (0 == m, m == n)."""
    if _bad_hashes([old_root, new_root], proof):
        return _fail(ProofReason.MALFORMED_HASH, "every hash must be 32 bytes")
    if not 0 <= old_size <= new_size:
        return _fail(ProofReason.SIZES_OUT_OF_ORDER, f"old size {old_size} > new size {new_size}")
    if old_size == 0 or old_size == new_size:
        return _verify_trivial_consistency(old_size, old_root, new_root, proof)
    if not proof:  # step 1
        return _fail(ProofReason.EMPTY_PROOF, "a consistency proof between different sizes is never empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return _fail(ProofReason.WRONG_PROOF_LENGTH, "consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return _compare_consistency(sn, fr, sr, old_root, new_root)


def _compare_consistency(sn: int, fr: bytes, sr: bytes, old_root: bytes, new_root: bytes) -> ProofResult:
    # Step 7.
    if sn != 0:
        return _fail(ProofReason.WRONG_PROOF_LENGTH, "consistency proof is too short")
    if not hmac.compare_digest(fr, old_root):
        return _fail(ProofReason.OLD_ROOT_MISMATCH, "proof does not lead to the old root")
    if not hmac.compare_digest(sr, new_root):
        return _fail(ProofReason.NEW_ROOT_MISMATCH, "proof does not lead to the new root")
    return _OK


def _verify_trivial_consistency(
    old_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> ProofResult:
    if proof:
        return _fail(ProofReason.UNEXPECTED_PROOF, "proof must be empty for an empty or unchanged tree")
    if old_size == 0:
        # Stricter than transparency-dev: the empty tree has exactly one root.
        if not hmac.compare_digest(old_root, EMPTY_ROOT):
            return _fail(ProofReason.OLD_ROOT_MISMATCH, "the empty tree's root is SHA-256 of nothing")
        return _OK
    if not hmac.compare_digest(old_root, new_root):
        return _fail(ProofReason.NEW_ROOT_MISMATCH, "same tree size but different roots (a fork)")
    return _OK


class CompactTree:
    """The right edge of a tree: one perfect-subtree root per set bit of `size`, largest first.

    Appending a leaf and computing the root are O(log n); the audit log can persist `state()` next to
    its latest entry and resume with `from_state` instead of re-hashing the whole log.
    """

    __slots__ = ("_size", "_nodes")

    def __init__(self) -> None:
        self._size = 0
        self._nodes: list[bytes] = []

    @classmethod
    def from_state(cls, size: int, nodes: Sequence[bytes]) -> CompactTree:
        if size < 0 or len(nodes) != size.bit_count() or _bad_hashes(nodes):
            raise ValueError(f"a tree of size {size} needs {max(size, 0).bit_count()} 32-byte nodes")
        tree = cls()
        tree._size, tree._nodes = size, list(nodes)
        return tree

    @property
    def size(self) -> int:
        return self._size

    def state(self) -> tuple[int, tuple[bytes, ...]]:
        return self._size, tuple(self._nodes)

    def append(self, leaf: bytes) -> int:
        """Add a leaf hash; returns its index."""
        if _bad_hashes([leaf]):
            raise ValueError("a leaf hash must be 32 bytes")
        index, h, s = self._size, leaf, self._size
        # Each trailing 1-bit of the old size is a perfect subtree of equal height: merge it.
        while s & 1:
            h = node_hash(self._nodes.pop(), h)
            s >>= 1
        self._nodes.append(h)
        self._size += 1
        return index

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        r = self._nodes[-1]
        for node in reversed(self._nodes[:-1]):
            r = node_hash(node, r)
        return r
