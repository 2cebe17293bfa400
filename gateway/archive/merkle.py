"""RFC 9162 Merkle tree: hashes, an append-only node store, inclusion and consistency proofs.

The tree is the Certificate Transparency one (RFC 9162 §2.1, unchanged since RFC 6962 §2.1):

    MTH({})        = SHA-256()
    MTH({d(0)})    = SHA-256(0x00 || d(0))                        leaf hash
    MTH(D[n])      = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  k = largest power of 2 < n

`MerkleTree` keeps the hash of every complete, aligned subtree (2n hashes for n leaves, 64 bytes
per leaf), so the root and any proof take O(log² n) hash look-ups instead of O(n) hashing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not verify (the caller turns it into a GatewayError where it matters)."""


def leaf_hash(data: bytes) -> bytes:
    # RFC 9162 §2.1.1: domain separation 0x00 for leaves, 0x01 for interior nodes
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, straight from the RFC's recursive definition."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


class MerkleTree:
    """An append-only tree that stores the hash of every complete aligned subtree."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        # levels[h] = concatenated hashes of the subtrees of 2**h leaves starting at i * 2**h
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        for leaf in leaf_hashes:
            self.append_leaf_hash(leaf)

    @classmethod
    def from_leaf_bytes(cls, leaves: bytes) -> MerkleTree:
        """Build from concatenated leaf hashes, level by level (faster than one by one)."""
        if len(leaves) % HASH_SIZE:
            raise ValueError("leaf hashes have 32 bytes")
        tree = cls()
        tree._size = len(leaves) // HASH_SIZE
        level = bytes(leaves)
        tree._levels = [bytearray(level)]
        sha256 = hashlib.sha256
        while len(level) >= 2 * HASH_SIZE:
            view = memoryview(level)
            pairs = len(level) // (2 * HASH_SIZE)
            level = b"".join(
                sha256(b"\x01" + view[i : i + 2 * HASH_SIZE]).digest()
                for i in range(0, pairs * 2 * HASH_SIZE, 2 * HASH_SIZE)
            )
            tree._levels.append(bytearray(level))
        return tree

    @property
    def size(self) -> int:
        return self._size

    def append_leaf_hash(self, leaf: bytes) -> None:
        if len(leaf) != HASH_SIZE:
            raise ValueError("a leaf hash has 32 bytes")
        levels = self._levels
        levels[0] += leaf
        index, height, node = self._size, 0, leaf
        # a right child completes its parent; carry upwards like a binary counter
        while index & 1:
            start = (index - 1) * HASH_SIZE
            node = node_hash(bytes(levels[height][start : start + HASH_SIZE]), node)
            height += 1
            index >>= 1
            if len(levels) == height:
                levels.append(bytearray())
            levels[height] += node
        self._size += 1

    def subtree_hashes(self, height: int, start: int, count: int) -> bytes:
        """Hashes of the complete subtrees of 2**height leaves number start .. start+count-1."""
        if height >= len(self._levels) or (start + count) * HASH_SIZE > len(self._levels[height]):
            raise ValueError(f"no {count} complete subtrees of height {height} from {start}")
        return bytes(self._levels[height][start * HASH_SIZE : (start + count) * HASH_SIZE])

    def leaf(self, index: int) -> bytes:
        if not 0 <= index < self._size:
            raise IndexError(index)
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def root(self, size: int | None = None) -> bytes:
        """MTH(D[0:size]) for any size up to the current one."""
        size = self._size if size is None else size
        if not 0 <= size <= self._size:
            raise ValueError(f"no tree of size {size} (current size {self._size})")
        return self._subtree(0, size) if size else EMPTY_ROOT

    def _subtree(self, start: int, end: int) -> bytes:
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            height = width.bit_length() - 1
            offset = (start >> height) * HASH_SIZE
            return bytes(self._levels[height][offset : offset + HASH_SIZE])
        k = _split(width)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf to root order."""
        size = self._size if size is None else size
        if not 0 <= index < size <= self._size:
            raise ValueError(f"no leaf {index} in a tree of size {size}")
        path: list[bytes] = []
        start, end = 0, size
        # walk down from the root; proof elements are produced root-first, returned leaf-first
        while end - start > 1:
            k = _split(end - start)
            if index - start < k:
                path.append(self._subtree(start + k, end))
                end = start + k
            else:
                path.append(self._subtree(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(m, D[n]) of RFC 9162 §2.1.4.1, between sizes `first` and `second`."""
        second = self._size if second is None else second
        if not 0 <= first <= second <= self._size:
            raise ValueError(f"no consistency proof from {first} to {second}")
        if first in (0, second):
            return []
        return self._subproof(first, 0, second, complete=True)

    def _subproof(self, m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
        # SUBPROOF(m, D[start:end], b), RFC 9162 §2.1.4.1
        n = end - start
        if m == n:
            return [] if complete else [self._subtree(start, end)]
        k = _split(n)
        if m <= k:
            proof = self._subproof(m, start, start + k, complete=complete)
            return [*proof, self._subtree(start + k, end)]
        proof = self._subproof(m - k, start + k, end, complete=False)
        return [*proof, self._subtree(start, start + k)]


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} outside a tree of size {size}")
    if len(leaf) != HASH_SIZE or any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("hashes have 32 bytes")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless `proof` shows leaf `index` in the tree of `size` with `root`."""
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless `proof` shows tree `first` is a prefix of tree `second`."""
    # RFC 9162 §2.1.4.2
    if not 0 <= first <= second:
        raise ProofError(f"sizes go backwards: {first} > {second}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("hashes have 32 bytes")
    if first == second:
        if proof or first_root != second_root:
            raise ProofError("equal sizes need equal roots and an empty proof")
        return
    if first == 0:
        if proof:
            raise ProofError("a proof from the empty tree is empty")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise ProofError("consistency proof does not match the roots")
