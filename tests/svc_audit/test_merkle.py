"""RFC 9162 §2.1 hashing and both proofs, against the published vectors, a reference
implementation of the RFC's definitions, and proofs forged or truncated in every field."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from tests.support.svc_audit import rfc6962_vectors as vectors
from todo_transparency import merkle
from todo_transparency.merkle import Frontier, Node

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def reference_mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 §2.1.1 defines it, recursively."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def reference_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of §2.1.3.1."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_mth(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_mth(leaves[:k])]


def reference_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of §2.1.4.1."""
    if m == len(leaves):
        return [] if whole else [reference_mth(leaves)]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m <= k:
        return [*reference_subproof(m, leaves[:k], whole), reference_mth(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), reference_mth(leaves[:k])]


class Store:
    """Perfect subtrees as svc_audit stores them, built by appending leaves to a Frontier."""

    def __init__(self, leaves: Sequence[bytes], batch: int = 3) -> None:
        self.hashes: dict[Node, bytes] = {}
        frontier = Frontier(0, [])
        for start in range(0, len(leaves), batch):
            chunk = [merkle.leaf_hash(leaf) for leaf in leaves[start : start + batch]]
            for offset, hash in enumerate(chunk):
                self.hashes[Node(0, start + offset)] = hash
            self.hashes.update(frontier.append(chunk))
        self.root = frontier.root()

    def lookup(self, node: Node) -> bytes:
        return self.hashes[node]


def test_hashes_are_the_rfcs() -> None:
    assert merkle.EMPTY_ROOT == vectors.EMPTY_ROOT
    assert merkle.leaf_hash(b"") == vectors.EMPTY_LEAF
    assert merkle.leaf_hash(b"L123456") == vectors.LEAF_L123456
    assert merkle.node_hash(b"N123", b"N456") == vectors.NODE_N123_N456
    assert merkle.root_of([]) == vectors.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_the_vector_tree(size: int) -> None:
    leaves = vectors.LEAVES[:size]
    assert merkle.root_of([merkle.leaf_hash(leaf) for leaf in leaves]) == vectors.ROOTS[size - 1]
    assert Store(leaves).root == vectors.ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), vectors.INCLUSION)
def test_inclusion_vectors(index: int, size: int, path: list[bytes]) -> None:
    store = Store(vectors.LEAVES[:size])
    assert merkle.inclusion_proof(index, size, store.lookup) == path
    leaf = merkle.leaf_hash(vectors.LEAVES[index])
    assert merkle.verify_inclusion(index, size, leaf, path, vectors.ROOTS[size - 1])


@pytest.mark.parametrize(("size1", "size2", "proof"), vectors.CONSISTENCY)
def test_consistency_vectors(size1: int, size2: int, proof: list[bytes]) -> None:
    store = Store(vectors.LEAVES[:size2])
    assert merkle.consistency_proof(size1, size2, store.lookup) == proof
    root1, root2 = vectors.ROOTS[size1 - 1], vectors.ROOTS[size2 - 1]
    assert merkle.verify_consistency(size1, size2, root1, root2, proof)


def _flip(hash: bytes, bit: int) -> bytes:
    return bytes([hash[0] ^ (1 << bit), *hash[1:]])


def forged_inclusions(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> list[tuple[str, int, int, bytes, list[bytes], bytes]]:
    """Every field of a good inclusion proof changed, truncated or padded.

    (The tree size is probed by doubling and halving, as the vectors' authors do: a
    neighbouring size can share the path's shape, and a signed checkpoint binds the size.)"""
    cases = [
        ("index - 1", index - 1, size, leaf, proof, root),
        ("index + 1", index + 1, size, leaf, proof, root),
        ("index ^ 2", index ^ 2, size, leaf, proof, root),
        ("size * 2", index, size * 2, leaf, proof, root),
        ("size / 2", index, size // 2, leaf, proof, root),
        ("wrong leaf", index, size, merkle.leaf_hash(b"WrongLeaf"), proof, root),
        ("short leaf", index, size, leaf[:31], proof, root),
        ("empty root", index, size, leaf, proof, merkle.EMPTY_ROOT),
        ("random root", index, size, leaf, proof, SOME_HASH),
        ("trailing garbage", index, size, leaf, [*proof, b""], root),
        ("trailing root", index, size, leaf, [*proof, root], root),
        ("preceding garbage", index, size, leaf, [b"", *proof], root),
        ("preceding root", index, size, leaf, [root, *proof], root),
    ]
    for position in range(len(proof)):
        for bit in (0, 3, 7):
            changed = list(proof)
            changed[position] = _flip(changed[position], bit)
            cases.append((f"proof[{position}] bit {bit}", index, size, leaf, changed, root))
        truncated = list(proof)
        truncated[position] = truncated[position][:-1]
        cases.append((f"proof[{position}] truncated", index, size, leaf, truncated, root))
        dropped = proof[:position] + proof[position + 1 :]
        cases.append((f"proof[{position}] removed", index, size, leaf, dropped, root))
    if len(proof) > 1:
        cases.append(("inserted", index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root))
        cases.append(("swapped", index, size, leaf, [proof[1], proof[0], *proof[2:]], root))
    return cases


@pytest.mark.parametrize(("index", "size", "path"), [v for v in vectors.INCLUSION if v[2]])
def test_forged_inclusion_proofs_are_rejected(index: int, size: int, path: list[bytes]) -> None:
    leaf, root = merkle.leaf_hash(vectors.LEAVES[index]), vectors.ROOTS[size - 1]
    accepted = [
        name
        for name, i, n, leaf_hash, proof, root_hash in forged_inclusions(
            index, size, leaf, path, root
        )
        if merkle.verify_inclusion(i, n, leaf_hash, proof, root_hash)
    ]
    assert accepted == []


def forged_consistencies(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    cases = [
        ("size1 - 1", size1 - 1, size2, root1, root2, proof),
        ("size1 + 1", size1 + 1, size2, root1, root2, proof),
        ("size1 ^ 2", size1 ^ 2, size2, root1, root2, proof),
        ("size2 * 2", size1, size2 * 2, root1, root2, proof),
        ("size2 / 2", size1, size2 // 2, root1, root2, proof),
        ("wrong root1", size1, size2, SOME_HASH, root2, proof),
        ("wrong root2", size1, size2, root1, SOME_HASH, proof),
        ("swapped roots", size1, size2, root2, root1, proof),
        ("empty proof", size1, size2, root1, root2, []),
        ("trailing garbage", size1, size2, root1, root2, [*proof, b""]),
        ("trailing root1", size1, size2, root1, root2, [*proof, root1]),
        ("trailing root2", size1, size2, root1, root2, [*proof, root2]),
        ("preceding garbage", size1, size2, root1, root2, [b"", *proof]),
        ("preceding root1", size1, size2, root1, root2, [root1, *proof]),
        ("preceding root2", size1, size2, root1, root2, [root2, *proof]),
        ("preceding proof[0]", size1, size2, root1, root2, [proof[0], *proof]),
    ]
    for position in range(len(proof)):
        for bit in (0, 4, 7):
            changed = list(proof)
            changed[position] = _flip(changed[position], bit)
            cases.append((f"proof[{position}] bit {bit}", size1, size2, root1, root2, changed))
        truncated = list(proof)
        truncated[position] = truncated[position][:-1]
        cases.append((f"proof[{position}] truncated", size1, size2, root1, root2, truncated))
        dropped = proof[:position] + proof[position + 1 :]
        cases.append((f"proof[{position}] removed", size1, size2, root1, root2, dropped))
    return cases


@pytest.mark.parametrize(("size1", "size2", "path"), [v for v in vectors.CONSISTENCY if v[2]])
def test_forged_consistency_proofs_are_rejected(size1: int, size2: int, path: list[bytes]) -> None:
    root1, root2 = vectors.ROOTS[size1 - 1], vectors.ROOTS[size2 - 1]
    accepted = [
        name
        for name, m, n, r1, r2, proof in forged_consistencies(size1, size2, root1, root2, path)
        if merkle.verify_consistency(m, n, r1, r2, proof)
    ]
    assert accepted == []


@pytest.mark.parametrize(
    ("size1", "size2", "roots", "proof", "valid"),
    [  # TestVerifyConsistency's edge cases (transparency-dev/merkle)
        (0, 0, (b"don't care 1", b"don't care 2"), [], False),
        (1, 1, (b"don't care 1", b"don't care 2"), [], False),
        (0, 0, (b"don't care 1", b"don't care 1"), [], True),
        (0, 1, (b"don't care 1", b"don't care 2"), [], True),
        (1, 1, (b"don't care 2", b"don't care 2"), [], True),
        (1, 0, (b"don't care 1", b"don't care 2"), [], False),
        (2, 1, (b"don't care 1", b"don't care 2"), [], False),
        (1, 2, (b"don't care 1", b"don't care 2"), [], False),
        (0, 0, (vectors.EMPTY_ROOT, b"don't care 2"), [], False),
        (1, 1, (vectors.EMPTY_ROOT, b"don't care 2"), [], False),
        (0, 0, (vectors.EMPTY_ROOT, vectors.EMPTY_ROOT), [vectors.EMPTY_ROOT], False),
        (0, 1, (vectors.EMPTY_ROOT, vectors.EMPTY_ROOT), [vectors.EMPTY_ROOT], False),
        (1, 1, (vectors.EMPTY_ROOT, vectors.EMPTY_ROOT), [vectors.EMPTY_ROOT], False),
    ],
)
def test_consistency_edge_cases(
    size1: int, size2: int, roots: tuple[bytes, bytes], proof: list[bytes], valid: bool
) -> None:
    assert merkle.verify_consistency(size1, size2, *roots, proof) is valid


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_edge_cases(index: int, size: int) -> None:
    assert not merkle.verify_inclusion(index, size, SOME_HASH, [], b"")
    assert not merkle.verify_inclusion(index, size, b"", [], merkle.EMPTY_ROOT)
    assert not merkle.verify_inclusion(index, size, SOME_HASH, [], merkle.EMPTY_ROOT)


def test_single_entry_tree() -> None:
    leaf = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(0, 1, leaf, [], leaf)
    assert not merkle.verify_inclusion(0, 1, leaf, [], b"")
    assert not merkle.verify_inclusion(0, 1, b"", [], leaf)


def test_stored_proofs_match_the_rfc_definitions() -> None:
    """Every proof of every tree up to 40 leaves, built from stored perfect subtrees (in
    batches, as the sequencer appends), equals the RFC's recursive definition and verifies."""
    leaves = [f"leaf {i}".encode() for i in range(40)]
    for size in range(1, len(leaves) + 1):
        store = Store(leaves[:size], batch=size % 5 + 1)
        root = reference_mth(leaves[:size])
        assert store.root == root
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, store.lookup)
            assert proof == reference_path(index, leaves[:size])
            assert merkle.verify_inclusion(
                index, size, merkle.leaf_hash(leaves[index]), proof, root
            )
        for old in range(1, size + 1):
            proof = merkle.consistency_proof(old, size, store.lookup)
            assert proof == (reference_subproof(old, leaves[:size], True) if old < size else [])
            assert merkle.verify_consistency(old, size, reference_mth(leaves[:old]), root, proof)


def test_a_proof_for_another_tree_is_rejected() -> None:
    """A proof built from a tree that differs in one leaf (a fork) verifies against neither."""
    leaves = [f"leaf {i}".encode() for i in range(21)]
    forked = [*leaves[:9], b"rewritten", *leaves[10:]]
    honest, fork = Store(leaves), Store(forked)
    proof = merkle.consistency_proof(8, 21, fork.lookup)
    assert not merkle.verify_consistency(8, 21, reference_mth(leaves[:8]), honest.root, proof)
    proof = merkle.consistency_proof(12, 21, honest.lookup)
    assert not merkle.verify_consistency(12, 21, reference_mth(forked[:12]), honest.root, proof)


def test_nodes_cover_exactly_their_ranges() -> None:
    assert merkle.perfect_nodes(0, 13) == [Node(3, 0), Node(2, 2), Node(0, 12)]
    assert merkle.perfect_nodes(8, 13) == [Node(2, 2), Node(0, 12)]
    with pytest.raises(ValueError, match="not a subtree"):
        merkle.perfect_nodes(2, 5)
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_ranges(5, 5)
