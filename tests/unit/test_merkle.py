"""RFC 9162 Merkle tree against the Certificate Transparency test vectors, plus properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.archive.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    leaf_hash,
    root_from_inclusion_proof,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# Test vectors of github.com/transparency-dev/merkle (testonly/constants.go, proof/verify_test.go),
# the RFC 6962 reference data carried over from certificate-transparency.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf number counted from 1, tree size, proof)
INCLUSION = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

LEAF_HASHES = [leaf_hash(d) for d in LEAVES]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert MerkleTree().root() == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_ct_vectors(size: int) -> None:
    tree = MerkleTree(LEAF_HASHES[:size])
    assert tree.root().hex() == ROOTS[size - 1]
    assert root_of(LEAF_HASHES[:size]).hex() == ROOTS[size - 1]
    # every earlier size is still reachable from the grown tree
    full = MerkleTree(LEAF_HASHES)
    assert full.root(size).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_ct_vectors(leaf: int, size: int, proof: list[str]) -> None:
    tree = MerkleTree(LEAF_HASHES)
    assert [p.hex() for p in tree.inclusion_proof(leaf - 1, size)] == proof
    root = bytes.fromhex(ROOTS[size - 1])
    verify_inclusion(leaf - 1, size, LEAF_HASHES[leaf - 1], [bytes.fromhex(p) for p in proof], root)


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_ct_vectors(first: int, second: int, proof: list[str]) -> None:
    tree = MerkleTree(LEAF_HASHES)
    assert [p.hex() for p in tree.consistency_proof(first, second)] == proof
    verify_consistency(
        first,
        second,
        bytes.fromhex(ROOTS[first - 1]),
        bytes.fromhex(ROOTS[second - 1]),
        [bytes.fromhex(p) for p in proof],
    )


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 8]) + value[1:]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION[1:])
def test_corrupted_inclusion_proofs_fail(leaf: int, size: int, proof: list[str]) -> None:
    # the corruptions of transparency-dev's corruptInclusionProof
    path = [bytes.fromhex(p) for p in proof]
    root = bytes.fromhex(ROOTS[size - 1])
    good = LEAF_HASHES[leaf - 1]
    index = leaf - 1
    probes = [
        (index - 1, size, good, path, root),
        (index + 1, size, good, path, root),
        (index ^ 2, size, good, path, root),
        (index, size * 2, good, path, root),
        (index, size // 2, good, path, root),
        (index, size, leaf_hash(b"WrongLeaf"), path, root),
        (index, size, good, path, EMPTY_ROOT),
        (index, size, good, [*path, root], root),
        (index, size, good, [root, *path], root),
        (index, size, good, path[:-1], root),
        *[(index, size, good, [*path[:i], _flip(path[i]), *path[i + 1 :]], root) for i in range(len(path))],
    ]
    for probe in probes:
        with pytest.raises(ProofError):
            verify_inclusion(*probe)


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_fail(first: int, second: int, proof: list[str]) -> None:
    path = [bytes.fromhex(p) for p in proof]
    r1, r2 = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    probes = [
        (first - 1, second, r1, r2, path),
        (first + 1, second, r1, r2, path),
        (first ^ 2, second, r1, r2, path),
        (first, second * 2, r1, r2, path),
        (first, second // 2, r1, r2, path),
        (first, second, leaf_hash(b"WrongRoot"), r2, path),
        (first, second, r1, leaf_hash(b"WrongRoot"), path),
        (first, second, r2, r1, path),
        (first, second, r1, r2, []),
        (first, second, r1, r2, [*path, r1]),
        (first, second, r1, r2, [r2, *path]),
        (first, second, r1, r2, [path[0], *path]),
        (first, second, r1, r2, path[:-1]),
        *[(first, second, r1, r2, [*path[:i], _flip(path[i]), *path[i + 1 :]]) for i in range(len(path))],
    ]
    for probe in probes:
        with pytest.raises(ProofError):
            verify_consistency(*probe)


def test_edge_cases() -> None:
    verify_consistency(0, 5, EMPTY_ROOT, leaf_hash(b"x"), [])
    verify_consistency(3, 3, leaf_hash(b"x"), leaf_hash(b"x"), [])
    with pytest.raises(ProofError):
        verify_consistency(3, 3, leaf_hash(b"x"), leaf_hash(b"y"), [])
    with pytest.raises(ProofError):
        verify_consistency(4, 3, leaf_hash(b"x"), leaf_hash(b"y"), [])
    with pytest.raises(ProofError):
        root_from_inclusion_proof(0, 0, leaf_hash(b"x"), [])
    with pytest.raises(ValueError, match="no leaf"):
        MerkleTree(LEAF_HASHES).inclusion_proof(8, 8)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_inclusion_proofs_verify_for_random_sizes(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree = MerkleTree(leaves)
    assert tree.root() == root_of(leaves)
    index = data.draw(st.integers(0, size - 1))
    at = data.draw(st.integers(index + 1, size))
    proof = tree.inclusion_proof(index, at)
    verify_inclusion(index, at, leaves[index], proof, root_of(leaves[:at]))
    if index + 1 < at:
        with pytest.raises(ProofError):
            verify_inclusion(index + 1, at, leaves[index], proof, root_of(leaves[:at]))


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_consistency_proofs_verify_for_random_sizes(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree = MerkleTree(leaves)
    first = data.draw(st.integers(0, size))
    second = data.draw(st.integers(first, size))
    proof = tree.consistency_proof(first, second)
    verify_consistency(first, second, tree.root(first), tree.root(second), proof)
    if 0 < first < second:
        other = root_of([*leaves[: first - 1], leaf_hash(b"changed")])
        with pytest.raises(ProofError):
            verify_consistency(first, second, other, tree.root(second), proof)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(0, 200))
def test_bulk_build_equals_incremental_build(size: int) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    bulk = MerkleTree.from_leaf_bytes(b"".join(leaves))
    incremental = MerkleTree(leaves)
    assert bulk.size == incremental.size == size
    for at in range(size + 1):
        assert bulk.root(at) == incremental.root(at)
    if size:
        assert bulk.inclusion_proof(size // 2) == incremental.inclusion_proof(size // 2)
        bulk.append_leaf_hash(leaf_hash(b"next"))
        incremental.append_leaf_hash(leaf_hash(b"next"))
        assert bulk.root() == incremental.root()
