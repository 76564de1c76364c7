"""Proofs served from the database, verifiable exports and signing-key rotation."""

from __future__ import annotations

import io
import json
import os
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.trail import keys, mac
from cyberqms.platform.trail.export import ExportError, write_export
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.log import prove_consistency, prove_inclusion, trail_seal
from cyberqms.platform.trail.merkle import (
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from cyberqms.platform.trail.models import AuditEntry, Checkpoint, TreeNode
from cyberqms.platform.trail.note import (
    UnverifiedNoteError,
    generate_signer_key,
    open_checkpoint,
    parse_verifier_key,
    verifier_key_from_signer,
)
from cyberqms.platform.trail.services import TrailError, key_rotate, trail_verify
from cyberqms.platform.trail.tests.tampering import sql
from cyberqms.platform.trail.verify import Report, verify_export

SEALS = (1, 100, 255, 256, 257, 513, 700)


def _leaves() -> list[bytes]:
    return [bytes(row[0]) for row in sql("SELECT leaf_hash FROM trail_auditentry ORDER BY seq")]


@pytest.fixture
def big_trail(write_entries: Callable[..., list[int]]) -> list[bytes]:
    """700 entries sealed at sizes around the 256-leaf tree-node boundaries."""
    written = 0
    for size in SEALS:
        write_entries(size - written)
        written = size
        trail_seal()
    return _leaves()


def _root(leaves: list[bytes], size: int) -> bytes:
    return root_from_leaf_hashes(leaves[:size])


def test_checkpoint_roots_and_tree_nodes_match_the_leaves(big_trail: list[bytes]) -> None:
    """CYB-02: every signed root is the RFC 9162 root of its prefix; cached nodes are the
    exact perfect-subtree hashes, one per completed 256-leaf block and above."""
    stored = {cp.size: bytes(cp.root) for cp in Checkpoint.objects.all()}
    assert stored == {size: _root(big_trail, size) for size in SEALS}
    nodes = {(n.level, n.index): bytes(n.hash) for n in TreeNode.objects.all()}
    assert nodes == {
        (8, 0): root_from_leaf_hashes(big_trail[0:256]),
        (8, 1): root_from_leaf_hashes(big_trail[256:512]),
        (9, 0): root_from_leaf_hashes(big_trail[0:512]),
    }
    assert check_trail(reconcile=False).ok is True


def test_inclusion_proofs_verify_for_any_entry_and_size(big_trail: list[bytes]) -> None:
    """CYB-02 (property): a proof from the database verifies against the tree's root."""
    for seq, size in ((1, 1), (1, 700), (700, 700), (256, 256), (257, 513), (513, 700)):
        proof = prove_inclusion(seq, size)
        assert verify_inclusion(big_trail[seq - 1], seq - 1, size, proof, _root(big_trail, size))

    @hypothesis.settings(max_examples=60, deadline=None, database=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        size = data.draw(st.integers(1, 700), label="size")
        seq = data.draw(st.integers(1, size), label="seq")
        proof = prove_inclusion(seq, size)
        root = _root(big_trail, size)
        assert verify_inclusion(big_trail[seq - 1], seq - 1, size, proof, root)
        other = big_trail[seq % size]
        if other != big_trail[seq - 1]:
            assert not verify_inclusion(other, seq - 1, size, proof, root)

    check()


def test_consistency_proofs_verify_between_checkpoints_and_any_sizes(
    big_trail: list[bytes],
) -> None:
    """CYB-02 (property): every later tree extends every earlier one, provably."""
    roots = {cp.size: bytes(cp.root) for cp in Checkpoint.objects.all()}
    for old in SEALS:
        for new in SEALS:
            if old <= new:
                proof = prove_consistency(old, new)
                assert verify_consistency(old, new, roots[old], roots[new], proof)

    @hypothesis.settings(max_examples=60, deadline=None, database=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        new = data.draw(st.integers(1, 700), label="new")
        old = data.draw(st.integers(1, new), label="old")
        proof = prove_consistency(old, new)
        assert verify_consistency(old, new, _root(big_trail, old), _root(big_trail, new), proof)
        if old < new:
            forged = _root(big_trail, old - 1) if old > 1 else b"\x01" * 32
            assert not verify_consistency(old, new, forged, _root(big_trail, new), proof)

    check()


def test_proof_of_an_incomplete_range_is_refused(big_trail: list[bytes]) -> None:
    with pytest.raises(ValueError, match=r"^leaf index 700 is not below tree size 700$"):
        prove_inclusion(701, 700)
    with pytest.raises(LookupError, match=r"^audit entries 513\.\.701 are incomplete$"):
        prove_inclusion(1, 701)


# --- exports ---------------------------------------------------------------------------


def _export(**kwargs: Any) -> str:
    buffer = io.StringIO()
    write_export(buffer, **kwargs)
    return buffer.getvalue()


def _verify(text: str, trusted: list[str] | None = None) -> Report:
    return verify_export(io.BytesIO(text.encode("utf-8")),
                         keys.read_verifier_keys() if trusted is None else trusted)


@pytest.fixture
def exported_trail(sealed_trail: dict[str, Any]) -> str:
    return _export()


def test_export_round_trips_through_the_offline_verifier(exported_trail: str) -> None:
    """CYB-02, P11-09: an export verifies offline with the trusted keys from the .pub file."""
    report = _verify(exported_trail)
    assert (report.ok, report.first_failure, report.keys_from_file, report.entries,
            report.checkpoints, report.from_seq, report.to_seq, report.anchor_size) == (
        True, None, False, 45, 4, 1, 45, 45
    )
    assert report.root_hash == _root(_leaves(), 45)
    # Sealed before exporting: the five unsealed entries got their checkpoint.
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [10, 25, 40, 45]
    lines = exported_trail.splitlines()
    assert [json.loads(line)["type"] for line in lines] == (
        ["header"] + ["entry"] * 45 + ["checkpoint"] * 4 + ["anchor"]
    )
    assert json.loads(lines[1])["entry"] == AuditEntry.objects.get(seq=1).data


def test_export_against_a_foreign_key_fails(exported_trail: str) -> None:
    foreign = parse_verifier_key(
        verifier_key_from_signer(generate_signer_key(keys.origin()))
    )
    report = _verify(exported_trail, [foreign.encode()])
    assert report.ok is False
    assert report.first_failure is not None
    assert report.first_failure.message.startswith(
        "checkpoint rejected: note has no signature by a trusted key"
    )


def test_edited_entry_in_an_export_is_located(exported_trail: str) -> None:
    lines = exported_trail.split("\n")
    lines[18] = lines[18].replace('"thing ', '"Thing ')
    report = _verify("\n".join(lines))
    assert report.ok is False
    assert report.first_failure is not None
    assert (report.first_failure.seq, report.first_failure.line) == (18, 19)


def test_any_single_byte_edit_of_an_export_fails(exported_trail: str) -> None:
    """CYB-02 (property): changing any byte of the signed content makes the export fail.

    The header's `exported_at` is informational and not covered by any signature, so it
    is left out of the positions tried.
    """
    stamp = json.loads(exported_trail.split("\n")[0])["exported_at"]
    start = exported_trail.index(stamp)
    positions = [i for i, char in enumerate(exported_trail)
                 if char.isascii() and not start <= i < start + len(stamp)]

    @hypothesis.settings(max_examples=40, deadline=None, database=None)
    @given(index=st.sampled_from(positions), data=st.data())
    def check(index: int, data: st.DataObject) -> None:
        new = data.draw(st.sampled_from(
            [c for c in string.printable if c != exported_trail[index]]))
        assert _verify(exported_trail[:index] + new + exported_trail[index + 1:]).ok is False

    check()


def test_partial_export_verifies(sealed_trail: dict[str, Any]) -> None:
    """P11-09: a range export carries its prefix and anchors to the latest checkpoint."""
    for from_seq, to_seq, inside in ((1, 45, 4), (11, 25, 1), (12, 24, 0), (30, 45, 2),
                                     (45, 45, 1), (1, 1, 0)):
        report = _verify(_export(from_seq=from_seq, to_seq=to_seq))
        assert (report.ok, report.entries, report.from_seq, report.to_seq, report.checkpoints,
                report.anchor_size) == (True, to_seq - from_seq + 1, from_seq, to_seq, inside, 45)


def test_export_range_is_checked(sealed_trail: dict[str, Any]) -> None:
    for kwargs, message, field in (
        ({"to_seq": 46}, "--to 46 is past the last entry (45).", "to_seq"),
        ({"from_seq": 0}, "--from must be 1 or more.", "from_seq"),
        ({"from_seq": 20, "to_seq": 19}, "--to is before --from.", "to_seq"),
    ):
        with pytest.raises(ExportError) as refused:
            _export(**kwargs)
        assert (str(refused.value), refused.value.field) == (message, field)


def test_export_of_an_empty_trail_says_so(db: Any, trail_key: Path) -> None:
    with pytest.raises(ExportError) as refused:
        _export()
    assert str(refused.value) == "The trail has no entries to export yet."


# --- keys --------------------------------------------------------------------------------


def test_key_file_is_created_private_with_its_public_half(db: Any, trail_key: Path) -> None:
    """The signing key lives outside the database, readable by its owner only."""
    assert not trail_key.exists()
    signer = keys.signer()
    assert os.stat(trail_key).st_mode & 0o777 == 0o600
    assert trail_key.read_text(encoding="ascii") == signer.encode() + "\n"
    pub = trail_key.with_name("trail-signing.key.pub")
    assert pub.read_text(encoding="ascii") == signer.verifier().encode() + "\n"
    assert keys.signer() is signer  # cached while the file is unchanged


def test_key_for_another_origin_is_refused(db: Any, trail_key: Path, settings: Any) -> None:
    keys.signer()
    settings.CYBERQMS_TRAIL_ORIGIN = "elsewhere.example/trail"
    with pytest.raises(keys.KeyFileError) as refused:
        keys.signer()
    assert str(refused.value) == (
        f"trail signing key {trail_key} is for origin 'cyberqms.local/trail', but "
        "CYBERQMS_TRAIL_ORIGIN is 'elsewhere.example/trail'"
    )


def test_malformed_key_file_is_refused(db: Any, trail_key: Path) -> None:
    trail_key.parent.mkdir(parents=True)
    trail_key.write_text("PRIVATE+KEY+broken\n", encoding="ascii")
    with pytest.raises(keys.KeyFileError) as refused:
        keys.signer()
    assert str(refused.value).startswith(f"cannot use trail signing key {trail_key}: ")


def test_key_rotation_keeps_old_checkpoints_verifiable(
    sealed_trail: dict[str, Any], trail_key: Path
) -> None:
    """CYB-02: after rotation old checkpoints still verify, the hand-over checkpoint is
    signed by both keys, and new checkpoints by the new key only."""
    trail_seal()
    old_verifier = keys.signer().verifier().encode()
    with pytest.raises(TrailError) as refused:
        key_rotate(reason=" ")
    assert refused.value.text == "A reason is required."

    old_mac = mac.mac_keys().current.hex()
    old, new = key_rotate(reason="Annual rotation")
    new_mac = mac.mac_keys().current.hex()
    assert old == old_verifier
    assert old_mac != new_mac
    assert new != old
    assert keys.read_verifier_keys() == [old, new]
    assert keys.signer().verifier().encode() == new
    old_id, new_id = (parse_verifier_key(k).key_id.hex() for k in (old, new))

    entry = AuditEntry.objects.get(action="trail.key.rotate")
    assert (entry.seq, entry.reason, entry.object_id, entry.changes) == (
        46, "Annual rotation", new_id,
        {"verifier_key": [old, new], "authenticator_key_id": [old_mac, new_mac]},
    )
    handover = Checkpoint.objects.get(size=46)
    assert handover.key_ids == f"{new_id},{old_id}"
    for only in (old, new):
        parsed, _ = open_checkpoint(handover.note, [only], keys.origin())
        assert (parsed.size, parsed.root_hash) == (46, bytes(handover.root))
    before = Checkpoint.objects.get(size=45)
    with pytest.raises(UnverifiedNoteError):
        open_checkpoint(before.note, [new])
    event = SecurityEvent.objects.get(kind="trail.key.rotated")
    assert (event.severity, event.data) == ("medium", {"old": old_id, "new": new_id})

    verification, report = trail_verify()
    assert (report.ok, verification.result) == (True, "passed")
    after = trail_seal().checkpoint  # covers the verification's entry, new key only
    assert after is not None
    assert after.key_ids == new_id
    with pytest.raises(UnverifiedNoteError):
        open_checkpoint(after.note, [old])
    assert check_trail(reconcile=False).ok is True
    assert _verify(_export()).ok is True
    assert _verify(_export(), [new]).ok is False  # the old checkpoints need the old key
