"""The Merkle log over the audit entries: sealing checkpoints and serving proofs.

Sealing signs a checkpoint over every committed entry not yet covered, records the
perfect-subtree hashes it completed (`TreeNode`, levels >= 8) and advances the single
`LogHead` row by compare-and-swap on its size. Two sealers racing therefore cannot fork
the log: the loser's UPDATE matches no row, its transaction rolls back, and it retries
on top of the winner's checkpoint. Before signing, the sealer re-hashes every new entry's
body and checks its authenticator (trail/mac.py): it never signs a leaf hash that does not
match its entry, nor an entry that cyberqms did not write.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity
from cyberqms.platform.trail import keys
from cyberqms.platform.trail.mac import Verdict, mac_keys
from cyberqms.platform.trail.merkle import (
    CompactRange,
    TreeHasher,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    path_ranges,
    subtree_decomposition,
)
from cyberqms.platform.trail.models import Checkpoint, LeafBlock, LogHead, TreeNode
from cyberqms.platform.trail.note import SignerKey, format_checkpoint, sign_note, time_extension
from cyberqms.platform.trail.record import number_lock, void_entry
from cyberqms.platform.trail.witness import local_witness

logger = logging.getLogger("cyberqms.platform.trail")

CACHE_MIN_LEVEL = 8
_SEAL_ATTEMPTS = 5


class SealConflictError(RuntimeError):
    """Another sealer advanced the log head first (retried by `trail_seal`)."""


class SealRefusedError(RuntimeError):
    """An unsealed entry's body does not match its leaf hash: nothing is signed."""

    def __init__(self, seq: int, message: str) -> None:
        super().__init__(message)
        self.seq = seq


@dataclass(frozen=True)
class SealResult:
    checkpoint: Checkpoint | None
    added: int


def as_bytes(value: Any) -> bytes:
    """A BinaryField value as `bytes` (drivers return bytes or memoryview)."""
    return value if isinstance(value, bytes) else bytes(value)


def max_seq() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM trail_auditentry")
        return int(cursor.fetchone()[0])


def head() -> LogHead:
    found = LogHead.objects.filter(pk=1).first()
    return found if found is not None else LogHead(pk=1, size=0, root=b"", nodes=[])


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


class _NodeCollector:
    def __init__(self) -> None:
        self.nodes: list[TreeNode] = []

    def get(self, level: int, index: int) -> bytes | None:
        return None

    def put(self, level: int, index: int, value: bytes) -> None:
        self.nodes.append(TreeNode(level=level, index=index, hash=value))


def _seal_once(extra_signers: Sequence[SignerKey] = ()) -> SealResult:
    signer = keys.signer()
    with transaction.atomic():
        current = LogHead.objects.select_for_update().filter(pk=1).first()
        if current is None:
            # First seal: concurrent sealers may all get here; one insert wins, the others
            # wait for it (ON CONFLICT DO NOTHING) and then lock the winner's row.
            LogHead.objects.bulk_create(
                [LogHead(pk=1, size=0, root=b"", nodes=[])], ignore_conflicts=True
            )
            current = LogHead.objects.select_for_update().get(pk=1)
        old_size = current.size
        limit = _fill_numbers(old_size) if connection.vendor == "postgresql" else None
        with connection.cursor() as cursor:
            if limit is None:
                cursor.execute(
                    "SELECT seq, leaf_hash, body, mac FROM trail_auditentry WHERE seq > %s "
                    "ORDER BY seq",
                    [old_size],
                )
            else:
                cursor.execute(
                    "SELECT seq, leaf_hash, body, mac FROM trail_auditentry WHERE seq > %s "
                    "AND seq <= %s ORDER BY seq",
                    [old_size, limit],
                )
            rows = cursor.fetchall()
        if not rows and not extra_signers:
            return SealResult(None, 0)
        leaves: list[bytes] = []
        expected = old_size + 1
        authenticators = mac_keys()
        for seq, stored, body, mac in rows:
            if seq != expected:
                raise SealRefusedError(expected, f"entry {expected} is missing; not sealing")
            computed = hashlib.sha256(b"\x00" + body.encode("utf-8")).digest()
            if computed != as_bytes(stored):
                raise SealRefusedError(seq, f"entry {seq} does not match its leaf hash")
            verdict = authenticators.verdict(computed, mac)
            if verdict is not Verdict.VALID:
                raise SealRefusedError(
                    seq, f"entry {seq} was not written by cyberqms (authenticator {verdict.value})"
                )
            leaves.append(computed)
            expected += 1
        compact = CompactRange.from_nodes(old_size, [bytes.fromhex(h) for h in current.nodes])
        collector = _NodeCollector()
        compact.extend(leaves, cache=collector, cache_min_level=CACHE_MIN_LEVEL)
        size = compact.size
        if size == old_size and Checkpoint.objects.filter(size=size).exists():
            # A rotation with nothing new: the co-signed checkpoint needs a new size.
            return SealResult(None, 0)
        root = compact.root()
        now = timezone.now()
        text = format_checkpoint(keys.origin(), size, root, [time_extension(now)])
        signers = [signer, *extra_signers]
        note = sign_note(text, signers)
        Checkpoint.objects.create(
            size=size,
            root=root,
            note=note,
            key_ids=",".join(s.key_id.hex() for s in signers),
            signed_at=now,
        )
        if collector.nodes:
            TreeNode.objects.bulk_create(collector.nodes)
        _store_blocks(old_size, size, leaves)
        updated = LogHead.objects.filter(pk=1, size=old_size).update(
            size=size, root=root, nodes=[n.hex() for n in compact.nodes()], updated_at=now
        )
        if updated != 1:
            raise SealConflictError("log head moved while sealing")
        checkpoint = Checkpoint.objects.get(size=size)
        # Only once the checkpoint is durable in the database does the witness move on.
        transaction.on_commit(partial(local_witness().write, size, note))
    return SealResult(checkpoint, size - old_size)


def _fill_numbers(old_size: int) -> int:
    """PostgreSQL: settle the numbers after `old_size` (trail/record.py) and return the last
    one to seal. Entries committing meanwhile are left to the next seal: the limit is the
    highest number present now. A missing number whose writer still holds its lock is in
    flight: sealing stops before it. A free one belonged to a change that rolled back: it
    gets a void entry (and a low security event names it), so the log stays gap-free."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM trail_auditentry")
        top = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT k FROM generate_series(%s::bigint, %s::bigint) AS k "
            "WHERE NOT EXISTS (SELECT 1 FROM trail_auditentry e WHERE e.seq = k) ORDER BY k",
            [old_size + 1, top],
        )
        missing = [int(row[0]) for row in cursor.fetchall()]
    voided: list[int] = []
    limit = top
    for seq in missing:
        with connection.cursor() as cursor:
            # Held (if taken) until the seal commits: a writer who drew this number but has
            # not locked it yet waits, finds it voided, and draws another.
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(number_lock(seq)))
            free = bool(cursor.fetchone()[0])
        if not free:
            limit = seq - 1
            break
        if void_entry(seq) is not None:
            voided.append(seq)
    if voided:
        shown = ", ".join(map(str, voided[:20])) + (" …" if len(voided) > 20 else "")
        emit_security_event(
            "trail.seq.voided", severity=Severity.LOW,
            message=f"Audit trail: {len(voided)} number(s) voided, their changes rolled back "
                    f"({shown})",
            data={"numbers": voided[:100], "count": len(voided)},
        )
    return limit


def _store_blocks(old_size: int, size: int, new_leaves: list[bytes]) -> None:
    """Write a `LeafBlock` for every block of 256 leaves this seal completed."""
    first_block = old_size >> CACHE_MIN_LEVEL
    end_block = size >> CACHE_MIN_LEVEL
    if end_block <= first_block:
        return
    start = first_block << CACHE_MIN_LEVEL
    earlier = list(DatabaseStore().leaf_hashes(start, old_size)) if start < old_size else []
    leaves = earlier + new_leaves
    block_size = 1 << CACHE_MIN_LEVEL
    LeafBlock.objects.bulk_create(
        LeafBlock(index=b, hashes=b"".join(
            leaves[(b - first_block) * block_size : (b - first_block + 1) * block_size]
        ))
        for b in range(first_block, end_block)
    )


def trail_seal(*, extra_signers: Sequence[SignerKey] = ()) -> SealResult:
    """Sign a checkpoint over all entries not yet covered; a no-op when there are none.

    Side effects: one `Checkpoint`, new `TreeNode` and `LeafBlock` rows, the log head
    advanced; when an unsealed entry was altered, nothing is signed and a critical
    security event `trail.seal.refused` is raised.
    :raises SealRefusedError: an unsealed entry was altered.
    """
    for attempt in range(_SEAL_ATTEMPTS):
        try:
            return _seal_once(extra_signers)
        except SealConflictError:
            logger.info("seal conflict, retrying (attempt %d)", attempt + 1)
        except SealRefusedError as exc:
            emit_security_event(
                "trail.seal.refused", severity=Severity.CRITICAL,
                message=f"Audit trail not sealed: {exc}", data={"seq": exc.seq},
            )
            raise
    raise SealConflictError(f"could not seal after {_SEAL_ATTEMPTS} attempts")


# --- proofs -------------------------------------------------------------------------------


class DatabaseStore:
    """Leaf hashes by 0-based index, read from the audit entries (seq = index + 1).

    A sealed block, or its first leaves (the right edge of an older tree whose size is not
    a multiple of 256), comes from its `LeafBlock` row: one row instead of up to 256
    entries. `blocks` are rows read in advance (`PrefetchedNodeCache`); a block not among
    them is read from the entries.
    """

    def __init__(self, blocks: dict[int, bytes] | None = None) -> None:
        self.blocks = blocks

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        block_size = 1 << CACHE_MIN_LEVEL
        if 0 < end - start <= block_size and start % block_size == 0:
            packed = self._block(start >> CACHE_MIN_LEVEL)
            if len(packed) == 32 * block_size:
                return [packed[i : i + 32] for i in range(0, 32 * (end - start), 32)]
        return self._rows(start, end)

    def _block(self, index: int) -> bytes:
        if self.blocks is not None:
            return self.blocks.get(index, b"")
        with connection.cursor() as cursor:
            cursor.execute('SELECT hashes FROM trail_leafblock WHERE "index" = %s', [index])
            row = cursor.fetchone()
        return b"" if row is None else as_bytes(row[0])

    def _rows(self, start: int, end: int) -> Sequence[bytes]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT leaf_hash FROM trail_auditentry WHERE seq > %s AND seq <= %s ORDER BY seq",
                [start, end],
            )
            hashes = [as_bytes(row[0]) for row in cursor.fetchall()]
        if len(hashes) != end - start:
            raise LookupError(f"audit entries {start + 1}..{end} are incomplete")
        return hashes


class DatabaseNodeCache:
    """`TreeNode` rows as a read-only subtree cache (sealing writes them)."""

    def get(self, level: int, index: int) -> bytes | None:
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT hash FROM trail_treenode WHERE level = %s AND "index" = %s',
                [level, index],
            )
            row = cursor.fetchone()
        return None if row is None else as_bytes(row[0])

    def put(self, level: int, index: int, value: bytes) -> None:
        """Nodes are only written by the sealer; proofs never write."""


class PrefetchedNodeCache(DatabaseNodeCache):
    """Reads, in one query, the stored hashes a proof over `ranges` will ask for: the
    subtree hashes (`TreeNode`, a dozen or more at 10**6 entries) and the 256-leaf blocks
    (`LeafBlock`) holding its smaller subtrees, around the proven entry and at the tree's
    right edge. One round trip instead of one per node and block is most of a proof's
    database time; only the right edge of the newest tree, in no sealed block yet, is
    read from the entries.
    """

    def __init__(self, ranges: Sequence[tuple[int, int]]) -> None:
        pieces = [piece for a, b in ranges for piece in subtree_decomposition(a, b)]
        wanted = sorted({(level, start >> level) for start, level in pieces
                         if level >= CACHE_MIN_LEVEL})
        blocks = sorted({start >> CACHE_MIN_LEVEL for start, level in pieces
                         if level < CACHE_MIN_LEVEL})
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.blocks: dict[int, bytes] = {}
        selects: list[str] = []
        params: list[int] = []
        if wanted:
            where = " OR ".join(['(level = %s AND "index" = %s)'] * len(wanted))
            selects.append(f'SELECT level, "index", hash FROM trail_treenode WHERE {where}')  # noqa: S608  (placeholders only)
            params += [value for key in wanted for value in key]
        if blocks:
            marks = ", ".join(["%s"] * len(blocks))
            selects.append(
                f'SELECT -1, "index", hashes FROM trail_leafblock WHERE "index" IN ({marks})'  # noqa: S608  (placeholders only)
            )
            params += blocks
        if not selects:
            return
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(selects), params)
            for level, index, value in cursor.fetchall():
                if level == -1:
                    self.blocks[int(index)] = as_bytes(value)
                else:
                    self.nodes[(int(level), int(index))] = as_bytes(value)

    def get(self, level: int, index: int) -> bytes | None:
        found = self.nodes.get((level, index))
        return found if found is not None else super().get(level, index)


def tree_hasher(cache: DatabaseNodeCache | None = None) -> TreeHasher:
    return TreeHasher(
        DatabaseStore(), cache or DatabaseNodeCache(), cache_min_level=CACHE_MIN_LEVEL
    )


def _prover(ranges: Sequence[tuple[int, int]]) -> TreeHasher:
    """A hasher for one proof over `ranges`, its stored hashes read in advance."""
    prefetched = PrefetchedNodeCache(ranges)
    return TreeHasher(
        DatabaseStore(prefetched.blocks), prefetched, cache_min_level=CACHE_MIN_LEVEL
    )


def prove_inclusion(seq: int, tree_size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of entry `seq` in the tree of the first `tree_size`."""
    ranges = path_ranges(seq - 1, tree_size) if seq <= tree_size else []
    return _prover(ranges).inclusion_proof(seq - 1, tree_size)


def prove_consistency(old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 consistency proof between two tree sizes."""
    ranges = consistency_ranges(old_size, new_size) if 0 <= old_size <= new_size else []
    return _prover(ranges).consistency_proof(old_size, new_size)


__all__ = [
    "DatabaseNodeCache",
    "DatabaseStore",
    "SealConflictError",
    "SealRefusedError",
    "SealResult",
    "consistency_proof",
    "head",
    "inclusion_proof",
    "latest_checkpoint",
    "max_seq",
    "prove_consistency",
    "prove_inclusion",
    "trail_seal",
]
