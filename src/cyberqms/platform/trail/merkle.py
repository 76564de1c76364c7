"""RFC 9162 §2.1 Merkle tree hashing, proofs and verification (= RFC 6962 §2.1).

The audit trail is an append-only list of entries ``d(0) .. d(n-1)``; its
state at size ``n`` is the Merkle Tree Hash ``MTH(D[n])`` of RFC 9162 §2.1.1:

* ``MTH({}) = SHA-256()``                                     (:data:`EMPTY_ROOT`)
* ``MTH({d(0)}) = SHA-256(0x00 || d(0))``                      (:func:`leaf_hash`)
* ``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`` (:func:`node_hash`)
  where ``k`` is the largest power of two smaller than ``n``.

The 0x00/0x01 prefixes give second-preimage resistance between leaves and
interior nodes (RFC 9162 §2.1.1).

Contents
--------
* :class:`CompactRange` - incremental root computation: the stack of roots of
  the perfect subtrees covering ``[0, size)``; O(1) amortised per append and
  O(log n) state, which is what a writer persists between appends and what an
  export carries as its "prefix" so a verifier can continue a tree mid-way.
* :class:`TreeHasher` - inclusion proofs (RFC 9162 §2.1.3.1, ``PATH``) and
  consistency proofs (§2.1.4.1, ``PROOF``/``SUBPROOF``) against a
  :class:`MerkleStore` of leaf hashes.  Perfect subtrees (aligned, power-of-two
  size) never change once complete, so their hashes are memoised in a
  :class:`SubtreeCache` for every level ``>= cache_min_level``; below that
  level hashes are recomputed from one fetched block of ``2**cache_min_level``
  leaves.  With a warm cache a proof costs O(log n) cache look-ups plus about
  ``2**cache_min_level`` hashes, independent of the tree size.
* :func:`verify_inclusion` / :func:`verify_consistency` (RFC 9162 §2.1.3.2 and
  §2.1.4.2) return ``bool``; :func:`check_inclusion` /
  :func:`check_consistency` raise :class:`ProofError` with the reason.

All hashes are 32-byte ``bytes``; malformed input to the verification
functions yields ``False``/``ProofError``, never another exception.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Final, Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "DictSubtreeCache",
    "MemoryStore",
    "MerkleStore",
    "ProofError",
    "SubtreeCache",
    "TreeHasher",
    "check_consistency",
    "check_inclusion",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "perfect_subtree_hash",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "subtree_decomposition",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
#: ``MTH({})``, the root of the empty tree (RFC 9162 §2.1.1).
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

_sha256: Final = hashlib.sha256
_LEAF_PREFIX: Final = b"\x00"
#: Leaves are fetched from a store in aligned blocks of at least 2**6.
_MIN_BLOCK_LEVEL: Final = 6
_NODE_PREFIX: Final = b"\x01"


class ProofError(ValueError):
    """A Merkle proof, tree size or hash did not verify; the message says why."""


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: hash of one leaf (RFC 9162 §2.1.1)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: interior node (RFC 9162 §2.1.1)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")
    return value


def _check_size(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{what} must be a non-negative int")
    return value


def _largest_power_of_two_below(n: int) -> int:
    """The ``k`` of RFC 9162 §2.1.1: largest power of two ``< n`` (``n > 1``)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """``MTH`` (RFC 9162 §2.1.1) over already-hashed leaves.

    Computed level by level, promoting an unpaired last node unchanged; this
    yields exactly the RFC's split-at-largest-power-of-two tree.
    """
    for h in hashes:
        _check_hash(h, "leaf hash")
    if not hashes:
        return EMPTY_ROOT
    return _reduce(list(hashes))


def _reduce(level: list[bytes]) -> bytes:
    """Root of a non-empty list of validated subtree hashes (left to right)."""
    sha = _sha256
    while len(level) > 1:
        paired = [
            sha(_NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) & 1:
            paired.append(level[-1])
        level = paired
    return level[0]


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree roots (largest first) right to left into ``MTH``."""
    root = hashes[-1]
    for h in reversed(hashes[:-1]):
        root = _sha256(_NODE_PREFIX + h + root).digest()
    return root


def subtree_decomposition(start: int, end: int) -> list[tuple[int, int]]:
    """Split ``[start, end)`` into aligned perfect subtrees, largest first.

    Returns ``(start, level)`` pairs (a subtree of ``2**level`` leaves).  For
    the ranges that occur in RFC 9162 trees (``start`` a multiple of a power of
    two ``>= end - start``) the ``MTH`` of the range is the right-to-left fold
    of these subtrees' hashes.
    """
    nodes: list[tuple[int, int]] = []
    size = end - start
    while size:
        level = size.bit_length() - 1
        nodes.append((start, level))
        start += 1 << level
        size -= 1 << level
    return nodes


class CompactRange:
    """Incremental Merkle tree over ``[0, size)``: roots of its perfect subtrees.

    The roots are kept largest (leftmost) first; there is one per set bit of
    ``size``.  Appending a leaf merges equal-sized subtrees like a binary
    counter carry, so each append costs one hash amortised, and the state is
    at most 64 hashes.  This is the "compact range" of the transparency-dev
    Merkle libraries.
    """

    __slots__ = ("_nodes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._nodes: list[bytes] = []

    @classmethod
    def from_nodes(cls, size: int, nodes: Sequence[bytes]) -> CompactRange:
        """Continue a tree from a prefix: ``nodes`` as returned by :meth:`nodes`.

        :raises ValueError: wrong number of nodes for ``size`` or bad hashes.
        """
        _check_size(size, "size")
        if len(nodes) != size.bit_count():
            raise ValueError(
                f"a compact range of size {size} has {size.bit_count()} nodes, got {len(nodes)}"
            )
        instance = cls()
        instance._size = size
        instance._nodes = [_check_hash(h, "node hash") for h in nodes]
        return instance

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def nodes(self) -> list[bytes]:
        """Perfect-subtree roots covering ``[0, size)``, largest first (a copy)."""
        return list(self._nodes)

    def copy(self) -> CompactRange:
        """An independent copy (cheap: at most 64 hashes)."""
        other = CompactRange()
        other._size = self._size
        other._nodes = list(self._nodes)
        return other

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (``leaf_hash(data)``, not the raw data)."""
        if type(leaf_hash) is not bytes or len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        nodes = self._nodes
        n = self._size
        h = leaf_hash
        while n & 1:
            h = _sha256(_NODE_PREFIX + nodes.pop() + h).digest()
            n >>= 1
        nodes.append(h)
        self._size += 1

    def extend(
        self,
        leaf_hashes: Iterable[bytes],
        *,
        cache: SubtreeCache | None = None,
        cache_min_level: int = 8,
    ) -> None:
        """Append many leaf hashes; the fast path for bulk (re)building.

        If ``cache`` is given, every perfect subtree completed at a level
        ``>= cache_min_level`` is stored in it, so a writer can keep a
        :class:`TreeHasher` cache warm at no extra hashing cost.  If a hash is
        invalid or the cache raises, the leaves before it stay appended and
        the range remains consistent.
        """
        nodes = self._nodes
        pop = nodes.pop
        push = nodes.append
        sha = _sha256
        prefix = _NODE_PREFIX
        size = self._size
        try:
            if cache is None:
                for leaf in leaf_hashes:
                    if type(leaf) is not bytes or len(leaf) != HASH_SIZE:
                        raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
                    h = leaf
                    n = size
                    while n & 1:
                        h = sha(prefix + pop() + h).digest()
                        n >>= 1
                    push(h)
                    size += 1
            else:
                for leaf in leaf_hashes:
                    if type(leaf) is not bytes or len(leaf) != HASH_SIZE:
                        raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
                    h = leaf
                    n = size
                    level = 0
                    completed: list[tuple[int, int, bytes]] = []
                    while n & 1:
                        h = sha(prefix + pop() + h).digest()
                        n >>= 1
                        level += 1
                        if level >= cache_min_level:
                            completed.append((level, size >> level, h))
                    push(h)
                    size += 1
                    # Only after the range is consistent again: a failing cache
                    # (e.g. a database error) must not corrupt the node stack.
                    for key_level, key_index, value in completed:
                        cache.put(key_level, key_index, value)
        finally:
            self._size = size

    def root(self) -> bytes:
        """``MTH(D[size])``: fold the subtree roots right to left (RFC 9162 §2.1.1)."""
        if not self._nodes:
            return EMPTY_ROOT
        return _fold(self._nodes)

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


class MerkleStore(Protocol):
    """Random access to the recorded leaf hashes, by 0-based leaf index."""

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        """Leaf hashes for indices ``[start, end)``; must return all of them."""
        ...


class SubtreeCache(Protocol):
    """Memo of perfect-subtree hashes keyed by ``(level, index)``.

    The subtree at ``(level, index)`` covers leaves
    ``[index * 2**level, (index + 1) * 2**level)``.  Entries never change
    once written, so an implementation may persist them indefinitely.
    """

    def get(self, level: int, index: int) -> bytes | None:
        """The stored hash, or ``None`` when unknown."""
        ...

    def put(self, level: int, index: int, value: bytes) -> None:
        """Store a hash (idempotent: the same key always gets the same value)."""
        ...


class MemoryStore:
    """In-memory :class:`MerkleStore` (a list of leaf hashes) for tests/benchmarks."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._hashes: list[bytes] = [_check_hash(h, "leaf hash") for h in leaf_hashes]
        self.fetches = 0
        self.leaves_read = 0

    def __len__(self) -> int:
        return len(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Record the next leaf hash."""
        self._hashes.append(_check_hash(leaf_hash, "leaf hash"))

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        """Slice of the recorded hashes; counts calls for efficiency tests."""
        if not 0 <= start <= end <= len(self._hashes):
            raise ValueError(f"leaf range [{start}, {end}) outside [0, {len(self._hashes)})")
        self.fetches += 1
        self.leaves_read += end - start
        return self._hashes[start:end]


class DictSubtreeCache:
    """In-memory :class:`SubtreeCache` backed by a dict."""

    def __init__(self) -> None:
        self.entries: dict[tuple[int, int], bytes] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, level: int, index: int) -> bytes | None:
        """Look up ``(level, index)``."""
        return self.entries.get((level, index))

    def put(self, level: int, index: int, value: bytes) -> None:
        """Store ``(level, index)``."""
        self.entries[(level, index)] = value


class _LeafReader:
    """Per-operation reader fetching leaves in aligned blocks of ``2**block_level``.

    A proof touches leaves in at most a few blocks (around the proven index and
    the right edge of the tree), so each block is fetched once per proof.
    """

    __slots__ = ("_block_level", "_blocks", "_limit", "_store")

    def __init__(self, store: MerkleStore, limit: int, block_level: int) -> None:
        self._store = store
        self._limit = limit
        self._block_level = block_level
        self._blocks: dict[int, Sequence[bytes]] = {}

    def read(self, start: int, end: int) -> Sequence[bytes]:
        """Leaves ``[start, end)``, which must lie inside one aligned block."""
        if end > self._limit:
            raise ValueError(f"leaf range [{start}, {end}) exceeds tree size {self._limit}")
        block = start >> self._block_level
        hashes = self._blocks.get(block)
        if hashes is None:
            if len(self._blocks) >= 4:
                self._blocks.clear()
            first = block << self._block_level
            last = min(first + (1 << self._block_level), self._limit)
            hashes = self._store.leaf_hashes(first, last)
            if len(hashes) != last - first:
                raise ValueError(f"store returned {len(hashes)} leaf hashes for [{first}, {last})")
            self._blocks[block] = hashes
        offset = block << self._block_level
        return hashes[start - offset : end - offset]


class TreeHasher:
    """Computes subtree hashes, roots and proofs over a :class:`MerkleStore`.

    :param store: leaf hashes by index.
    :param cache: memo for perfect subtrees at levels ``>= cache_min_level``;
        ``None`` disables memoisation (every call then rehashes the leaves it
        needs - fine for small trees, not for 10**6 leaves).
    :param cache_min_level: lowest memoised level; also the block size
        (``2**cache_min_level`` leaves) fetched from the store at once.  The
        default 8 (256-leaf blocks, like C2SP tlog-tiles) stores one cache
        entry per ~256 leaves.
    """

    def __init__(
        self,
        store: MerkleStore,
        cache: SubtreeCache | None = None,
        *,
        cache_min_level: int = 8,
    ) -> None:
        if not 0 <= cache_min_level <= 30:
            raise ValueError("cache_min_level must be in [0, 30]")
        self.store = store
        self.cache = cache
        self.cache_min_level = cache_min_level

    def _reader(self, limit: int) -> _LeafReader:
        return _LeafReader(self.store, limit, max(self.cache_min_level, _MIN_BLOCK_LEVEL))

    def _perfect(self, start: int, level: int, reader: _LeafReader) -> bytes:
        cache = self.cache if level >= self.cache_min_level and level > 0 else None
        if cache is not None:
            cached = cache.get(level, start >> level)
            if cached is not None:
                return cached
        if level <= self.cache_min_level:
            hashes = reader.read(start, start + (1 << level))
            result = hashes[0] if level == 0 else _reduce(list(hashes))
        else:
            half = 1 << (level - 1)
            result = node_hash(
                self._perfect(start, level - 1, reader),
                self._perfect(start + half, level - 1, reader),
            )
        if cache is not None:
            cache.put(level, start >> level, result)
        return result

    def perfect_subtree_hash(self, start: int, level: int) -> bytes:
        """Hash of the perfect subtree of ``2**level`` leaves starting at ``start``.

        ``start`` must be a multiple of ``2**level``.  Such a subtree's hash
        never changes once all its leaves exist, which is why it may be cached.
        """
        _check_size(start, "start")
        _check_size(level, "level")
        if start & ((1 << level) - 1):
            raise ValueError(f"start {start} is not aligned to 2**{level}")
        return self._perfect(start, level, self._reader(start + (1 << level)))

    def _range_hash(self, start: int, end: int, reader: _LeafReader) -> bytes:
        parts = [self._perfect(s, lvl, reader) for s, lvl in subtree_decomposition(start, end)]
        return _fold(parts)

    def root(self, tree_size: int) -> bytes:
        """``MTH(D[tree_size])`` (RFC 9162 §2.1.1)."""
        _check_size(tree_size, "tree_size")
        if tree_size == 0:
            return EMPTY_ROOT
        return self._range_hash(0, tree_size, self._reader(tree_size))

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        """Audit path ``PATH(m, D[n])`` of RFC 9162 §2.1.3.1 for leaf ``index``."""
        _check_size(index, "index")
        _check_size(tree_size, "tree_size")
        if index >= tree_size:
            raise ValueError(f"leaf index {index} is not below tree size {tree_size}")
        reader = self._reader(tree_size)
        return [self._range_hash(a, b, reader) for a, b in _path_ranges(index, tree_size)]

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """``PROOF(m, D[n])`` of RFC 9162 §2.1.4.1 (empty if ``m`` is 0 or ``n``)."""
        _check_size(old_size, "old_size")
        _check_size(new_size, "new_size")
        if old_size > new_size:
            raise ValueError(f"old size {old_size} exceeds new size {new_size}")
        reader = self._reader(new_size)
        return [self._range_hash(a, b, reader) for a, b in _consistency_ranges(old_size, new_size)]


def _path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose ``MTH`` form ``PATH(index, D[size])``, in proof order.

    Unrolls the RFC 9162 §2.1.3.1 recursion top-down, then reverses, because
    the recursion emits the deepest sibling first.
    """
    ranges: list[tuple[int, int]] = []
    start = 0
    m = index
    n = size
    while n > 1:
        k = _largest_power_of_two_below(n)
        if m < k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            n -= k
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose ``MTH`` form ``PROOF(old_size, D[new_size])`` (§2.1.4.1)."""
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    start = 0
    m = old_size
    n = new_size
    complete = True  # the "b" flag of SUBPROOF
    while m != n:
        k = _largest_power_of_two_below(n)
        if m <= k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            n -= k
            complete = False
    if not complete:
        ranges.append((start, start + n))
    ranges.reverse()
    return ranges


# Public names: a database-backed prover prefetches the subtree hashes these ranges need.
path_ranges = _path_ranges
consistency_ranges = _consistency_ranges


def perfect_subtree_hash(
    store: MerkleStore,
    start: int,
    level: int,
    cache: SubtreeCache | None = None,
    *,
    cache_min_level: int = 8,
) -> bytes:
    """Functional form of :meth:`TreeHasher.perfect_subtree_hash`."""
    return TreeHasher(store, cache, cache_min_level=cache_min_level).perfect_subtree_hash(
        start, level
    )


def inclusion_proof(
    store: MerkleStore,
    index: int,
    tree_size: int,
    cache: SubtreeCache | None = None,
    *,
    cache_min_level: int = 8,
) -> list[bytes]:
    """Functional form of :meth:`TreeHasher.inclusion_proof`."""
    return TreeHasher(store, cache, cache_min_level=cache_min_level).inclusion_proof(
        index, tree_size
    )


def consistency_proof(
    store: MerkleStore,
    old_size: int,
    new_size: int,
    cache: SubtreeCache | None = None,
    *,
    cache_min_level: int = 8,
) -> list[bytes]:
    """Functional form of :meth:`TreeHasher.consistency_proof`."""
    return TreeHasher(store, cache, cache_min_level=cache_min_level).consistency_proof(
        old_size, new_size
    )


def _valid_proof(proof: object) -> list[bytes]:
    if not isinstance(proof, (list, tuple)):
        raise ProofError("proof must be a list of hashes")
    for element in proof:
        if not isinstance(element, bytes) or len(element) != HASH_SIZE:
            raise ProofError(f"proof elements must be {HASH_SIZE}-byte hashes")
    return list(proof)


def _valid_int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{what} must be a non-negative int")
    return value


def _valid_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be a {HASH_SIZE}-byte hash")
    return value


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """Recompute the root from an audit path (RFC 9162 §2.1.3.2 steps 1-5).

    :raises ProofError: if the proof has the wrong shape for ``index``/``tree_size``.
    """
    r = _valid_hash(leaf_hash, "leaf hash")
    index = _valid_int(index, "index")
    tree_size = _valid_int(tree_size, "tree size")
    path = _valid_proof(proof)
    if index >= tree_size:
        raise ProofError(f"leaf index {index} is not below tree size {tree_size}")
    fn = index
    sn = tree_size - 1
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = _sha256(_NODE_PREFIX + p + r).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def check_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify an inclusion proof (RFC 9162 §2.1.3.2) or raise :class:`ProofError`."""
    root = _valid_hash(root, "root")
    computed = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)
    if computed != root:
        raise ProofError(
            f"inclusion proof for leaf {index} yields root {computed.hex()}, expected {root.hex()}"
        )


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """``True`` iff the inclusion proof verifies (RFC 9162 §2.1.3.2)."""
    try:
        check_inclusion(leaf_hash, index, tree_size, proof, root)
    except ProofError:
        return False
    return True


def check_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Verify a consistency proof (RFC 9162 §2.1.4.2) or raise :class:`ProofError`.

    Edge cases the RFC leaves to the implementation, handled as in the
    transparency-dev/merkle reference code but stricter about roots:

    * ``old_size == new_size``: the proof must be empty and the roots equal;
    * ``old_size == 0``: the proof must be empty and ``old_root`` must be
      :data:`EMPTY_ROOT` (every tree extends the empty tree).
    """
    old_size = _valid_int(old_size, "old size")
    new_size = _valid_int(new_size, "new size")
    old_root = _valid_hash(old_root, "old root")
    new_root = _valid_hash(new_root, "new root")
    path = _valid_proof(proof)
    if old_size > new_size:
        raise ProofError(f"old size {old_size} exceeds new size {new_size}")
    if old_size == new_size:
        if path:
            raise ProofError("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"roots differ at the same tree size {old_size}")
        return
    if old_size == 0:
        if path:
            raise ProofError("consistency proof from the empty tree must be empty")
        if old_root != EMPTY_ROOT:
            raise ProofError("root of the empty tree must be SHA-256('')")
        return
    if not path:
        raise ProofError("consistency proof is empty")
    # RFC 9162 §2.1.4.2 step 2: if first is a power of two, prepend first_hash.
    if old_size & (old_size - 1) == 0:
        path = [old_root, *path]
    fn = old_size - 1
    sn = new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = _sha256(_NODE_PREFIX + c + fr).digest()
            sr = _sha256(_NODE_PREFIX + c + sr).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(_NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"consistency proof does not reproduce the old root at size {old_size}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not reproduce the new root at size {new_size}")


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """``True`` iff the consistency proof verifies (RFC 9162 §2.1.4.2)."""
    try:
        check_consistency(old_size, new_size, old_root, new_root, proof)
    except ProofError:
        return False
    return True
