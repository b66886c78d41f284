"""RFC 9162 §2.1 Merkle trees: hashing, the shape of proofs, and their verification.

A tree over n leaves is the RFC's MTH(D[n]): SHA-256 with a 0x00 prefix for
leaves and 0x01 for interior nodes, split at the largest power of two below n.
Storage works in *perfect* subtrees: `Node(level, index)` covers the 2**level
leaves from `index << level`, and is final the moment its last leaf is
appended. Every hash a proof needs is MTH of a range whose pieces are such
nodes (`perfect_nodes`), so a store keeps perfect nodes only and computes the
rest (`range_hash`). Proof generation is split the same way: `inclusion_ranges`
and `consistency_ranges` say which ranges a proof holds, in order; the caller
fetches their nodes (one query) and hashes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

HASH_SIZE: Final = 32
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not prove what it claims (the message says how it fails)."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """k, the largest power of two smaller than `size` (size >= 2)."""
    if size < 2:
        raise ValueError(f"a tree of {size} leaves does not split")
    return 1 << ((size - 1).bit_length() - 1)


@dataclass(frozen=True, order=True)
class Node:
    """The perfect subtree over leaves [index << level, (index + 1) << level)."""

    level: int
    index: int

    @property
    def start(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


Lookup = Callable[[Node], bytes]


def perfect_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees that make up MTH(D[start:end]), left to right.

    Valid for the ranges the RFC's recursion produces: `start` a multiple of
    the smallest power of two >= end - start (any prefix [0, n) qualifies).
    """
    size = end - start
    if size <= 0:
        raise ValueError(f"empty range [{start}, {end})")
    if start & ((1 << (size - 1).bit_length()) - 1):
        raise ValueError(f"[{start}, {end}) is not a subtree of any tree")
    nodes = []
    position = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append(Node(level, position >> level))
            position += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of consecutive perfect subtrees, largest first: the right edge is hashed first."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def range_hash(start: int, end: int, lookup: Lookup) -> bytes:
    """MTH(D[start:end]) from the stored hashes of its perfect subtrees."""
    return fold([lookup(node) for node in perfect_nodes(start, end)])


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes (the reference the stores are tested against)."""
    frontier = Frontier(0, [])
    frontier.append(leaf_hashes)
    return frontier.root()


class Frontier:
    """The perfect subtrees of a tree of `size` leaves (its compact range): enough to append.

    `hashes` are those of `perfect_nodes(0, size)`, largest first.
    """

    def __init__(self, size: int, hashes: Sequence[bytes]) -> None:
        expected = len(perfect_nodes(0, size)) if size else 0
        if len(hashes) != expected:
            raise ValueError(f"a tree of {size} leaves has {expected} frontier hashes")
        self.size = size
        self._pieces = [
            (node.level, bytes(hash))
            for node, hash in zip(perfect_nodes(0, size) if size else [], hashes, strict=True)
        ]

    @staticmethod
    def nodes(size: int) -> list[Node]:
        """The nodes whose hashes `Frontier(size, ...)` needs."""
        return perfect_nodes(0, size) if size else []

    def append(self, leaf_hashes: Sequence[bytes]) -> list[tuple[Node, bytes]]:
        """Appends leaves; returns the interior nodes (level >= 1) they completed, in order."""
        completed: list[tuple[Node, bytes]] = []
        pieces = self._pieces
        for leaf in leaf_hashes:
            pieces.append((0, leaf))
            self.size += 1
            while len(pieces) >= 2 and pieces[-1][0] == pieces[-2][0]:
                level, right = pieces.pop()
                _, left = pieces.pop()
                merged = node_hash(left, right)
                node = Node(level + 1, (self.size >> (level + 1)) - 1)
                completed.append((node, merged))
                pieces.append((level + 1, merged))
        return completed

    def root(self) -> bytes:
        return fold([hash for _, hash in self._pieces])


def inclusion_ranges(leaf_index: int, tree_size: int) -> list[tuple[int, int]]:
    """The ranges whose MTH make up PATH(leaf_index, D[tree_size]), in proof order."""
    if not 0 <= leaf_index < tree_size:
        raise ValueError(f"leaf {leaf_index} is not in a tree of {tree_size}")
    ranges = []
    start, end = 0, tree_size
    while end - start > 1:
        k = split_point(end - start)
        if leaf_index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # the recursion puts the innermost sibling first
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The ranges whose MTH make up PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1), in order."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    ranges = []
    start, end, m, whole = 0, new_size, old_size, True
    while True:
        size = end - start
        if m == size:
            if not whole:
                ranges.append((start, end))
            break
        k = split_point(size)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            whole = False
    ranges.reverse()
    return ranges


def _check_hashes(proof: Sequence[bytes]) -> None:
    for position, hash in enumerate(proof):
        if len(hash) != HASH_SIZE:
            raise ProofError(f"proof hash {position} has {len(hash)} bytes, not {HASH_SIZE}")


def _shift_until_odd(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def root_from_inclusion_proof(
    leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root that `proof` leads to from `leaf` (RFC 9162 §2.1.3.2); ProofError if malformed."""
    if not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf {leaf_index} is not in a tree of {tree_size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf)}")
    _check_hashes(proof)
    fn, sn = leaf_index, tree_size - 1
    result = leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the path")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                fn, sn = _shift_until_odd(fn, sn)
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the path")
    return result


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether `proof` shows `leaf` at `leaf_index` in the tree of `tree_size` with `root`."""
    try:
        return root_from_inclusion_proof(leaf_index, tree_size, leaf, proof) == root
    except ProofError:
        return False


def _check_trivial(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """The cases that need no proof: equal sizes (equal roots) and the empty tree."""
    if proof:
        raise ProofError("the proof must be empty for these sizes")
    if old_size == new_size and old_root != new_root:
        raise ProofError("two different roots for the same size")


def check_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raises ProofError unless `proof` shows tree `old_size` is a prefix of tree `new_size`
    (RFC 9162 §2.1.4.2)."""
    _check_hashes(proof)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of {new_size} cannot extend one of {old_size}")
    if old_size in (0, new_size):
        _check_trivial(old_size, new_size, old_root, new_root, proof)
        return
    if not proof:
        raise ProofError("the proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a perfect subtree of the new one
        path.insert(0, old_root)
    old_result, new_result = _consistency_roots(old_size, new_size, path)
    if old_result != old_root:
        raise ProofError("the proof does not lead to the old root")
    if new_result != new_root:
        raise ProofError("the proof does not lead to the new root")


def _consistency_roots(old_size: int, new_size: int, path: Sequence[bytes]) -> tuple[bytes, bytes]:
    """The old and new roots `path` leads to (RFC 9162 §2.1.4.2 steps 3 to 7)."""
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_result = new_result = path[0]
    for hash in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the path")
        if fn & 1 or fn == sn:
            old_result = node_hash(hash, old_result)
            new_result = node_hash(hash, new_result)
            if not fn & 1:
                fn, sn = _shift_until_odd(fn, sn)
        else:
            new_result = node_hash(new_result, hash)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the path")
    return old_result, new_result


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    try:
        check_consistency(old_size, new_size, old_root, new_root, proof)
    except ProofError:
        return False
    return True


def inclusion_proof(leaf_index: int, tree_size: int, lookup: Lookup) -> list[bytes]:
    """PATH(leaf_index, D[tree_size]) from stored perfect subtrees."""
    return [range_hash(a, b, lookup) for a, b in inclusion_ranges(leaf_index, tree_size)]


def consistency_proof(old_size: int, new_size: int, lookup: Lookup) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from stored perfect subtrees."""
    return [range_hash(a, b, lookup) for a, b in consistency_ranges(old_size, new_size)]


def nodes_for(ranges: Sequence[tuple[int, int]]) -> set[Node]:
    """Every stored node the hashes of `ranges` need (to fetch them in one go)."""
    return {node for start, end in ranges for node in perfect_nodes(start, end)}
