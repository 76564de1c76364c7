"""Sealed 256-leaf blocks stored as one row each: exact contents, used by proofs, and a
tampered block cannot produce a proof that verifies (P11-06)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cyberqms.platform.trail import guards
from cyberqms.platform.trail.log import (
    DatabaseStore,
    prove_consistency,
    prove_inclusion,
    trail_seal,
)
from cyberqms.platform.trail.merkle import verify_inclusion
from cyberqms.platform.trail.models import AuditEntry, Checkpoint, LeafBlock

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed_600(trail_key: Path, write_entries: Callable[..., list[int]]) -> None:
    for count in (100, 300, 200):  # blocks complete inside the 2nd and 3rd seal
        write_entries(count)
        trail_seal()


def _leaves(start: int, end: int) -> list[bytes]:
    return [bytes(h) for h in AuditEntry.objects.filter(seq__gt=start, seq__lte=end)
            .order_by("seq").values_list("leaf_hash", flat=True)]


def test_each_complete_block_is_stored_once_with_its_leaf_hashes(sealed_600: None) -> None:
    assert list(LeafBlock.objects.order_by("index").values_list("index", flat=True)) == [0, 1]
    for block in LeafBlock.objects.all():
        start = block.index * 256
        assert bytes(block.hashes) == b"".join(_leaves(start, start + 256))
    assert list(DatabaseStore().leaf_hashes(256, 512)) == _leaves(256, 512)
    assert list(DatabaseStore().leaf_hashes(256, 300)) == _leaves(256, 300)
    assert list(DatabaseStore().leaf_hashes(512, 600)) == _leaves(512, 600)


def test_proofs_over_stored_blocks_verify(sealed_600: None) -> None:
    root = bytes(Checkpoint.objects.get(size=600).root)
    for seq in (1, 256, 257, 300, 511, 513, 600):
        leaf = bytes(AuditEntry.objects.get(seq=seq).leaf_hash)
        assert verify_inclusion(leaf, seq - 1, 600, prove_inclusion(seq, 600), root)


def _tamper_block_1() -> None:
    guards.remove(connection)
    try:
        block = bytearray(bytes(LeafBlock.objects.get(index=1).hashes))
        block[40] ^= 1  # the leaf of entry 258
        with connection.cursor() as cursor:
            cursor.execute('UPDATE trail_leafblock SET hashes = %s WHERE "index" = 1',
                           [bytes(block)])
    finally:
        guards.install(connection)


def test_a_tampered_block_gives_a_proof_that_fails(sealed_600: None) -> None:
    _tamper_block_1()
    root = bytes(Checkpoint.objects.get(size=600).root)
    leaf = bytes(AuditEntry.objects.get(seq=257).leaf_hash)
    assert not verify_inclusion(leaf, 256, 600, prove_inclusion(257, 600), root)


def test_the_right_edge_of_an_older_tree_is_read_from_its_stored_block(
    sealed_600: None,
) -> None:
    """The checkpoint of 400 entries ends inside block 1 (entries 257-512), complete since:
    its last 144 leaves come from that block's row (not 144 entries), so a tampered row
    gives a proof that fails."""
    _tamper_block_1()
    root = bytes(Checkpoint.objects.get(size=400).root)
    leaf = bytes(AuditEntry.objects.get(seq=1).leaf_hash)
    assert not verify_inclusion(leaf, 0, 400, prove_inclusion(1, 400), root)


def test_a_proof_reads_its_stored_hashes_in_one_query(sealed_600: None) -> None:
    """Subtree hashes and blocks come in one query; only the newest tree's right edge
    (entries 513-600, in no complete block yet) is read from the entries."""
    counts = []
    for prove in (lambda: prove_inclusion(300, 400), lambda: prove_consistency(100, 400),
                  lambda: prove_inclusion(300, 600), lambda: prove_consistency(100, 600)):
        with CaptureQueriesContext(connection) as queries:
            prove()
        counts.append(len(queries.captured_queries))
    assert counts == [1, 1, 2, 2]


def test_leaf_blocks_are_append_only(sealed_600: None) -> None:
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM trail_leafblock")
    assert LeafBlock.objects.count() == 2
