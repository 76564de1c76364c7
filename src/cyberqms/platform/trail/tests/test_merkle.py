"""RFC 9162 §2.1 Merkle trees: CT test vectors, RFC reference model, properties."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.platform.trail.merkle import (
    EMPTY_ROOT,
    CompactRange,
    DictSubtreeCache,
    MemoryStore,
    ProofError,
    TreeHasher,
    check_consistency,
    check_inclusion,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_subtree_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    subtree_decomposition,
    verify_consistency,
    verify_inclusion,
)

# --------------------------------------------------------------------------------------
# Test vectors from RFC 6962 / certificate-transparency, as published in
# github.com/transparency-dev/merkle proof/verify_test.go.  Leaf indices in the
# inclusion vectors there are 1-based; they are converted to 0-based here.

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
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
H = bytes.fromhex
INCLUSION_VECTORS: list[tuple[int, int, list[bytes]]] = [  # (0-based index, size, proof)
    (0, 1, []),
    (
        0,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = H("abacaba000000000000000000000000000000000000000000060061e00123456")
LEAF_HASHES = [leaf_hash(d) for d in LEAVES]


# --------------------------------------------------------------------------------------
# Reference model: the RFC 9162 §2.1 recursive definitions, transcribed literally.


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]  # d holds leaf *hashes*
    k = _k(len(d))
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    if m in (0, len(d)):
        return []
    return ref_subproof(m, d, True)


def distinct_leaves(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"{salt}:{i}".encode()) for i in range(n)]


# --------------------------------------------------------------------------------------
# Test vectors


def test_hash_primitives() -> None:
    assert hashlib.sha256(b"").hexdigest() == EMPTY_ROOT.hex()
    assert leaf_hash(b"") == ROOTS[0]
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_the_rfc6962_vector_trees(size: int) -> None:
    assert root_from_leaf_hashes(LEAF_HASHES[:size]) == ROOTS[size - 1]
    assert TreeHasher(MemoryStore(LEAF_HASHES)).root(size) == ROOTS[size - 1]
    tree = CompactRange()
    tree.extend(LEAF_HASHES[:size])
    assert tree.root() == ROOTS[size - 1]


def test_empty_tree_root() -> None:
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT
    assert TreeHasher(MemoryStore()).root(0) == EMPTY_ROOT


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_vectors(index: int, size: int, proof: list[bytes]) -> None:
    store = MemoryStore(LEAF_HASHES)
    assert inclusion_proof(store, index, size) == proof
    assert inclusion_proof(store, index, size, DictSubtreeCache(), cache_min_level=1) == proof
    assert root_from_inclusion_proof(LEAF_HASHES[index], index, size, proof) == ROOTS[size - 1]
    assert verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[size - 1])
    for probe in _corrupt_inclusion(index, size, proof, ROOTS[size - 1], LEAF_HASHES[index]):
        assert not verify_inclusion(*probe)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_vectors(old: int, new: int, proof: list[bytes]) -> None:
    store = MemoryStore(LEAF_HASHES)
    assert consistency_proof(store, old, new) == proof
    assert consistency_proof(store, old, new, DictSubtreeCache(), cache_min_level=1) == proof
    assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)
    if proof:
        for probe in _corrupt_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof):
            assert not verify_consistency(*probe)


def _corrupt_inclusion(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[bytes, int, int, list[bytes], bytes]]:
    """The probes of transparency-dev/merkle's corruptInclusionProof."""
    probes = [
        (leaf, index - 1, size, proof, root),
        (leaf, index + 1, size, proof, root),
        (leaf, index ^ 2, size, proof, root),
        (leaf, index, size * 2, proof, root),
        (leaf, index, size // 2, proof, root),
        (b"WrongLeaf", index, size, proof, root),
        (SOME_HASH, index, size, proof, root),
        (leaf, index, size, proof, EMPTY_ROOT),
        (leaf, index, size, proof, SOME_HASH),
        (leaf, index, size, [*proof, b""], root),
        (leaf, index, size, [*proof, root], root),
        (leaf, index, size, [b"", *proof], root),
        (leaf, index, size, [root, *proof], root),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((leaf, index, size, flipped, root))
    if proof:
        probes.append((leaf, index, size, proof[:-1], root))
    if len(proof) > 1:
        probes.append((leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root))
    return probes


def _corrupt_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> list[tuple[int, int, bytes, bytes, list[bytes]]]:
    """The probes of transparency-dev/merkle's corruptConsistencyProof."""
    probes = [
        (old - 1, new, old_root, new_root, proof),
        (old + 1, new, old_root, new_root, proof),
        (old ^ 2, new, old_root, new_root, proof),
        (old, new * 2, old_root, new_root, proof),
        (old, new // 2, old_root, new_root, proof),
        (old, new, b"WrongRoot", new_root, proof),
        (old, new, old_root, b"WrongRoot", proof),
        (old, new, new_root, old_root, proof),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*proof, b""]),
        (old, new, old_root, new_root, [*proof, old_root]),
        (old, new, old_root, new_root, [*proof, new_root]),
        (old, new, old_root, new_root, [b"", *proof]),
        (old, new, old_root, new_root, [old_root, *proof]),
        (old, new, old_root, new_root, [new_root, *proof]),
        (old, new, old_root, new_root, [proof[0], *proof]),
        (old, new, old_root, new_root, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((old, new, old_root, new_root, flipped))
    return probes


def test_single_entry_inclusion() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(h, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], h)
    for index, size in [(0, 0), (1, 0), (2, 1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)


def test_consistency_edge_cases() -> None:
    r1, r2 = ROOTS[0], ROOTS[1]
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, ROOTS[4], [])
    assert verify_consistency(1, 1, r1, r1, [])
    assert not verify_consistency(1, 1, r1, r2, [])  # same size, different roots
    assert not verify_consistency(1, 0, r1, r2, [])  # time travel
    assert not verify_consistency(2, 1, r2, r1, [])
    assert not verify_consistency(1, 2, r1, r2, [])  # empty proof
    assert not verify_consistency(0, 1, r1, r2, [])  # size 0 must have the empty root
    assert not verify_consistency(0, 1, EMPTY_ROOT, r1, [EMPTY_ROOT])
    assert not verify_consistency(1, 1, r1, r1, [EMPTY_ROOT])
    with pytest.raises(ProofError, match="empty"):
        check_consistency(1, 2, r1, r2, [])
    with pytest.raises(ProofError, match="exceeds"):
        check_consistency(3, 2, r1, r2, [])


def test_verification_rejects_malformed_arguments_without_crashing() -> None:
    h = LEAF_HASHES[0]
    bad_args: list[tuple[object, ...]] = [
        ("str", 0, 1, [], h),
        (h, -1, 1, [], h),
        (h, True, 2, [], h),
        (h, 0, 1.0, [], h),
        (h, 0, 2, "not a list", h),
        (h, 0, 2, [123], h),
        (h, 0, 2, [b"short"], h),
    ]
    for args in bad_args:
        assert not verify_inclusion(*args)  # type: ignore[arg-type]  # invalid on purpose
        with pytest.raises(ProofError):
            check_inclusion(*args)  # type: ignore[arg-type]  # invalid on purpose
    assert not verify_consistency(1, 2, h, "x", [h])  # type: ignore[arg-type]  # invalid on purpose
    assert not verify_consistency(-1, 2, h, h, [h])


# --------------------------------------------------------------------------------------
# Agreement with the RFC reference model


def test_proofs_match_rfc_reference_model_exhaustively() -> None:
    leaves = distinct_leaves(40)
    store = MemoryStore(leaves)
    hashers = [
        TreeHasher(store),
        TreeHasher(store, DictSubtreeCache(), cache_min_level=0),
        TreeHasher(store, DictSubtreeCache(), cache_min_level=2),
    ]
    for n in range(1, len(leaves) + 1):
        root = ref_mth(leaves[:n])
        for hasher in hashers:
            assert hasher.root(n) == root
        for m in range(n):
            expected = ref_path(m, leaves[:n])
            for hasher in hashers:
                assert hasher.inclusion_proof(m, n) == expected
            assert verify_inclusion(leaves[m], m, n, expected, root)
        for m in range(n + 1):
            expected = ref_proof(m, leaves[:n])
            for hasher in hashers:
                assert hasher.consistency_proof(m, n) == expected
            assert verify_consistency(m, n, ref_mth(leaves[:m]), root, expected)


def test_subtree_decomposition() -> None:
    assert subtree_decomposition(0, 0) == []
    assert subtree_decomposition(0, 13) == [(0, 3), (8, 2), (12, 0)]
    assert subtree_decomposition(16, 22) == [(16, 2), (20, 1)]


# --------------------------------------------------------------------------------------
# CompactRange


@settings(max_examples=60, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=2**16))
def test_compact_range_root_equals_mth_for_every_prefix(n: int, salt: int) -> None:
    leaves = distinct_leaves(n, salt)
    tree = CompactRange()
    assert tree.root() == EMPTY_ROOT
    for i, h in enumerate(leaves):
        tree.append(h)
        assert tree.size == i + 1
        assert len(tree.nodes()) == (i + 1).bit_count()
        assert tree.root() == root_from_leaf_hashes(leaves[: i + 1])


@settings(max_examples=60, deadline=None, database=None)
@given(st.data())
def test_compact_range_from_nodes_continues_the_tree(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=0, max_value=300))
    split = data.draw(st.integers(min_value=0, max_value=n))
    leaves = distinct_leaves(n, data.draw(st.integers(0, 1000)))
    prefix = CompactRange()
    prefix.extend(leaves[:split])
    resumed = CompactRange.from_nodes(prefix.size, prefix.nodes())
    resumed.extend(leaves[split:])
    full = CompactRange()
    full.extend(leaves)
    assert resumed.size == full.size == n
    assert resumed.nodes() == full.nodes()
    assert resumed.root() == full.root() == root_from_leaf_hashes(leaves)
    # The node list is exactly the decomposition of [0, split) into perfect subtrees.
    hasher = TreeHasher(MemoryStore(leaves))
    assert prefix.nodes() == [
        hasher.perfect_subtree_hash(start, level)
        for start, level in subtree_decomposition(0, split)
    ]


def test_compact_range_validation_and_copy() -> None:
    with pytest.raises(ValueError, match="3 nodes"):
        CompactRange.from_nodes(7, [SOME_HASH])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange.from_nodes(1, [b"x"])
    with pytest.raises(ValueError, match="non-negative"):
        CompactRange.from_nodes(-1, [])
    tree = CompactRange()
    with pytest.raises(ValueError, match="32 bytes"):
        tree.append(b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        tree.extend([SOME_HASH, bytearray(32)])  # type: ignore[list-item]  # invalid on purpose
    assert tree.size == 1  # the valid hash before the bad one was appended
    other = tree.copy()
    other.append(SOME_HASH)
    assert (tree.size, other.size) == (1, 2)
    assert "size=1" in repr(tree)


def test_extend_with_cache_records_completed_perfect_subtrees() -> None:
    leaves = distinct_leaves(1000)
    cache = DictSubtreeCache()
    tree = CompactRange()
    tree.extend(leaves[:500], cache=cache, cache_min_level=3)
    tree.extend(leaves[500:], cache=cache, cache_min_level=3)
    reference = TreeHasher(MemoryStore(leaves))
    expected = {(level, index) for level in range(3, 10) for index in range(1000 >> level)}
    assert set(cache.entries) == expected
    for (level, index), value in cache.entries.items():
        assert value == reference.perfect_subtree_hash(index << level, level)


def test_failing_cache_leaves_the_compact_range_consistent() -> None:
    leaves = distinct_leaves(8)

    class FailingCache(DictSubtreeCache):
        def put(self, level: int, index: int, value: bytes) -> None:
            raise RuntimeError("database unavailable")

    tree = CompactRange()
    tree.extend(leaves[:3])
    with pytest.raises(RuntimeError):
        tree.extend(leaves[3:], cache=FailingCache(), cache_min_level=1)
    assert tree.size == 4
    assert tree.root() == root_from_leaf_hashes(leaves[:4])
    tree.extend(leaves[4:])
    assert tree.root() == root_from_leaf_hashes(leaves)


# --------------------------------------------------------------------------------------
# Proof generation with a store and cache


def test_proofs_with_warm_cache_read_only_a_few_leaf_blocks() -> None:
    n = 2**16 + 1234
    leaves = distinct_leaves(n)
    store = MemoryStore(leaves)
    cache = DictSubtreeCache()
    hasher = TreeHasher(store, cache)
    root = hasher.root(n)  # warms the cache (one pass over the leaves)
    assert root == root_from_leaf_hashes(leaves)
    assert len(cache) == sum(n >> level for level in range(8, 17))
    for index in (0, 1, 4097, 40_000, n - 1):
        store.fetches = store.leaves_read = 0
        proof = hasher.inclusion_proof(index, n)
        assert verify_inclusion(leaves[index], index, n, proof, root)
        assert store.fetches <= 2
        assert store.leaves_read <= 2 * 256
    for old in (1, 255, 256, 30_001, n - 1):
        store.fetches = store.leaves_read = 0
        proof = hasher.consistency_proof(old, n)
        assert verify_consistency(old, n, root_from_leaf_hashes(leaves[:old]), root, proof)
        assert store.fetches <= 2
        assert store.leaves_read <= 2 * 256


def test_store_errors_surface_as_value_errors() -> None:
    store = MemoryStore(distinct_leaves(5))
    hasher = TreeHasher(store, DictSubtreeCache())
    with pytest.raises(ValueError, match="outside"):
        hasher.root(6)
    with pytest.raises(ValueError, match="not below"):
        hasher.inclusion_proof(5, 5)
    with pytest.raises(ValueError, match="exceeds"):
        hasher.consistency_proof(6, 5)
    with pytest.raises(ValueError, match="aligned"):
        perfect_subtree_hash(store, 1, 1)
    with pytest.raises(ValueError, match="cache_min_level"):
        TreeHasher(store, cache_min_level=31)

    class ShortStore:
        def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
            return distinct_leaves(end - start)[:-1]

    with pytest.raises(ValueError, match="returned"):
        TreeHasher(ShortStore()).root(3)


def test_memory_store_validates_hashes() -> None:
    store = MemoryStore()
    with pytest.raises(ValueError, match="32 bytes"):
        store.append(b"x")
    store.append(SOME_HASH)
    assert len(store) == 1


# --------------------------------------------------------------------------------------
# Property tests on random trees


@settings(max_examples=150, deadline=None, database=None)
@given(st.data())
def test_inclusion_proofs_verify_and_detect_tampering(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=300), label="size")
    leaves = distinct_leaves(n, data.draw(st.integers(0, 10**6), label="salt"))
    hasher = TreeHasher(
        MemoryStore(leaves), DictSubtreeCache(), cache_min_level=data.draw(st.integers(0, 8))
    )
    root = hasher.root(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    proof = hasher.inclusion_proof(index, n)
    assert verify_inclusion(leaves[index], index, n, proof, root)

    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="element")
        j = data.draw(st.integers(0, 31), label="byte")
        bit = data.draw(st.integers(0, 7), label="bit")
        flipped = list(proof)
        element = bytearray(flipped[i])
        element[j] ^= 1 << bit
        flipped[i] = bytes(element)
        assert not verify_inclusion(leaves[index], index, n, flipped, root)
        assert not verify_inclusion(leaves[index], index, n, proof[:-1], root)
    assert not verify_inclusion(leaves[index], index, n, [*proof, SOME_HASH], root)

    other_index = data.draw(st.integers(0, n), label="other index")
    if other_index != index:
        assert not verify_inclusion(leaves[index], other_index, n, proof, root)
    for other_size in (n * 2, n // 2):
        assert not verify_inclusion(leaves[index], index, other_size, proof, root)
    other_leaf = data.draw(st.integers(0, n - 1), label="other leaf")
    if other_leaf != index:
        assert not verify_inclusion(leaves[other_leaf], index, n, proof, root)


@settings(max_examples=150, deadline=None, database=None)
@given(st.data())
def test_consistency_proofs_verify_and_detect_tampering(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=300), label="new size")
    m = data.draw(st.integers(min_value=1, max_value=n), label="old size")
    leaves = distinct_leaves(n, data.draw(st.integers(0, 10**6), label="salt"))
    hasher = TreeHasher(
        MemoryStore(leaves), DictSubtreeCache(), cache_min_level=data.draw(st.integers(0, 8))
    )
    old_root, new_root = hasher.root(m), hasher.root(n)
    proof = hasher.consistency_proof(m, n)
    assert verify_consistency(m, n, old_root, new_root, proof)
    if not proof:
        assert m == n
        return
    i = data.draw(st.integers(0, len(proof) - 1), label="element")
    j = data.draw(st.integers(0, 31), label="byte")
    flipped = list(proof)
    element = bytearray(flipped[i])
    element[j] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    flipped[i] = bytes(element)
    assert not verify_consistency(m, n, old_root, new_root, flipped)
    assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
    assert not verify_consistency(m, n, old_root, new_root, [*proof, SOME_HASH])
    for probe in _corrupt_consistency(m, n, old_root, new_root, proof):
        assert not verify_consistency(*probe)
    # A tree that differs in any single leaf below m is not consistent with the old root.
    changed = data.draw(st.integers(0, m - 1), label="changed leaf")
    forged = list(leaves)
    forged[changed] = SOME_HASH
    forged_hasher = TreeHasher(MemoryStore(forged))
    assert not verify_consistency(
        m, n, old_root, forged_hasher.root(n), forged_hasher.consistency_proof(m, n)
    )
