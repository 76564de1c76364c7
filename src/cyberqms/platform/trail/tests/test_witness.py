"""Rollback is visible (issue 12, item 3; P11-06, CYB-02): checkpoints leave the database
for witness directories, C2SP tlog-witnesses and the SIEM, and verification compares the
database with the newest witnessed checkpoint it can read, or says that there was none.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.trail import guards, keys, witness
from cyberqms.platform.trail.integrity import Problem, Witnessed, check_trail
from cyberqms.platform.trail.log import trail_seal
from cyberqms.platform.trail.models import Checkpoint
from cyberqms.platform.trail.note import (
    format_checkpoint,
    generate_signer_key,
    sign_note,
    verifier_key_from_signer,
)
from cyberqms.platform.trail.publish import checkpoint_publish
from cyberqms.platform.trail.tests.witness_server import WitnessState, running_witness


@pytest.fixture
def committed_trail(transactional_db: Any, trail_key: Path,
                    write_entries: Callable[..., list[int]]) -> None:
    """Real commits, so the sealer's on-commit witness update runs: checkpoints 10, 20."""
    write_entries(10)
    trail_seal()
    write_entries(10)
    trail_seal()


def _cut_back_to(size: int) -> None:
    """What someone owning the database does to hide the newest entries."""
    guards.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM trail_auditentry WHERE seq > %s", [size])
            cursor.execute("DELETE FROM trail_checkpoint WHERE size > %s", [size])
            cursor.execute("DELETE FROM trail_treenode")
            cursor.execute("DELETE FROM trail_leafblock")
            cursor.execute(
                "UPDATE trail_loghead SET size = %s, root = %s",
                [size, bytes(Checkpoint.objects.get(size=size).root)],
            )
    finally:
        guards.install(connection)


def _local_source() -> str:
    return witness.local_witness().describe()


# --- the local witness and verification ------------------------------------------------------


def test_witness_follows_each_committed_seal(committed_trail: None) -> None:
    local = witness.local_witness()
    assert (local.size(), local.read()) == (20, Checkpoint.objects.get(size=20).note)


def test_verification_names_the_witnessed_checkpoint_it_compared(committed_trail: None) -> None:
    report = check_trail(reconcile=False)
    assert (report.problems, report.witness_size, report.witness_source) == (
        [], 20, _local_source()
    )


def test_cutting_back_entries_checkpoint_and_head_is_reported(committed_trail: None) -> None:
    _cut_back_to(10)
    report = check_trail(reconcile=False)
    assert report.problems == [Problem(
        "checkpoint",
        f"the database is behind the checkpoint in {_local_source()}: it signed 20 entries, "
        "the database's trail holds 10: 10 entries are missing (database restored from an "
        "older copy, or entries and checkpoints deleted)",
        size=20, seq=11, fingerprint="witness-20",
    )]


def test_without_any_witnessed_checkpoint_verification_says_so(committed_trail: None) -> None:
    witness.local_witness().path.unlink()
    report = check_trail(reconcile=False)
    assert (report.ok, report.witnessed, report.witness_size) == (True, False, None)


def test_the_cli_says_plainly_when_nothing_witnessed_was_compared(committed_trail: None) -> None:
    witness.local_witness().path.unlink()
    out = io.StringIO()
    call_command("trail", "verify", "--no-reconcile", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-2:] == [
        "No witnessed checkpoint was available: a database restored from an older copy, or "
        "cut back with its checkpoints, would not be noticed. Give one with --against FILE "
        "or configure CYBERQMS_TRAIL_WITNESS_DIRS (docs/audit-trail.md).",
        "INTACT as far as the database shows; not compared with a witnessed checkpoint.",
    ]


def test_the_cli_names_the_witnessed_checkpoint_it_compared(committed_trail: None) -> None:
    out = io.StringIO()
    call_command("trail", "verify", "--no-reconcile", stdout=out)
    assert out.getvalue().splitlines()[-2:] == [
        f"Compared with the witnessed checkpoint of 20 entries ({_local_source()}).",
        "INTACT: the audit trail verifies.",
    ]


def test_a_rollback_is_found_against_a_checkpoint_kept_anywhere(
    committed_trail: None, tmp_path: Path
) -> None:
    """The database restored from an older copy, the local witness lost with the host."""
    kept = tmp_path / "printed.checkpoint"
    kept.write_text(Checkpoint.objects.get(size=20).note)
    _cut_back_to(10)
    witness.local_witness().path.unlink()
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("trail", "verify", "--no-reconcile", "--against", str(kept),
                     stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert err.getvalue().splitlines()[0] == (
        f"FAILED: first bad entry: seq 11. the database is behind the checkpoint in file "
        f"{kept}: it signed 20 entries, the database's trail holds 10: 10 entries are "
        "missing (database restored from an older copy, or entries and checkpoints deleted)"
    )


def test_an_against_file_that_cannot_be_read_is_a_usage_error(
    committed_trail: None, tmp_path: Path
) -> None:
    from django.core.management.base import CommandError

    missing = tmp_path / "nowhere.checkpoint"
    with pytest.raises(CommandError) as error:
        call_command("trail", "verify", "--against", str(missing), stdout=io.StringIO())
    assert str(error.value).startswith(f"cannot read the checkpoint {missing}: ")


def test_a_forged_checkpoint_given_to_compare_is_reported(committed_trail: None) -> None:
    forged = Checkpoint.objects.get(size=20).note.replace("\n20\n", "\n21\n", 1)
    report = check_trail(reconcile=False, against=Witnessed("file forged", forged))
    assert [p.message for p in report.problems] == [
        "the checkpoint in file forged is invalid: invalid signature by trusted key "
        f"{keys.signer().name}+{keys.signer().key_id.hex()}"
    ]


def test_a_rewritten_history_is_found_by_the_consistency_proof(committed_trail: None) -> None:
    """A checkpoint of 10 entries whose root the database's trail does not extend."""
    other = sign_note(
        format_checkpoint(keys.origin(), 10, b"\x07" * 32), [keys.signer()]
    )
    report = check_trail(reconcile=False, against=Witnessed("file old", other))
    assert report.problems == [Problem(
        "checkpoint",
        "the database's trail is not an extension of the checkpoint of 10 entries in file "
        "old (history rewritten)",
        size=10, seq=1, fingerprint="witness-10",
    )]


def test_a_witness_never_moves_backwards(tmp_path: Path) -> None:
    directory = witness.DirectoryWitness(tmp_path)
    assert directory.write(5, "origin\n5\nroot\n\n— a sig\n") is True
    assert directory.write(3, "origin\n3\nroot\n\n— a sig\n") is False
    assert directory.size() == 5


def test_a_witness_copy_of_the_same_size_gains_cosignatures(tmp_path: Path) -> None:
    directory = witness.DirectoryWitness(tmp_path)
    directory.write(5, "origin\n5\nroot\n\n— a sig\n")
    assert directory.write(5, "origin\n5\nroot\n\n— a sig\n— w cosig\n") is True
    assert directory.write(5, "origin\n5\nroot\n\n— a sig\n") is False
    assert directory.read() == "origin\n5\nroot\n\n— a sig\n— w cosig\n"


# --- publishing: directories, HTTP witnesses, the SIEM --------------------------------------


@pytest.fixture
def four_checkpoints(sealed_trail: dict[str, Any]) -> None:
    """sealed_trail's checkpoints at 10, 25, 40, and one at 45."""
    trail_seal()


def test_publishing_writes_every_configured_directory(
    four_checkpoints: None, settings: Any, tmp_path: Path
) -> None:
    settings.CYBERQMS_TRAIL_WITNESS_DIRS = [tmp_path / "nfs", tmp_path / "worm"]
    report = checkpoint_publish()
    assert (report.size, report.failed, report.written) == (45, [], [
        _local_source(), f"witness directory {tmp_path / 'nfs'}",
        f"witness directory {tmp_path / 'worm'}",
    ])
    assert (tmp_path / "worm" / "trail-checkpoint").read_text() == (
        Checkpoint.objects.get(size=45).note
    )


def test_an_unwritable_directory_is_a_failure_with_a_security_event(
    four_checkpoints: None, settings: Any, tmp_path: Path
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a directory should be")
    settings.CYBERQMS_TRAIL_WITNESS_DIRS = [blocked]
    report = checkpoint_publish()
    assert report.failed == [f"witness directory {blocked}: File exists"]
    event = SecurityEvent.objects.get(kind="trail.witness.failed")
    assert (event.severity, event.message) == (
        "high", f"Checkpoint not witnessed: witness directory {blocked}: File exists"
    )


@pytest.fixture
def http_witness(settings: Any, trail_key: Path) -> Iterator[WitnessState]:
    state = WitnessState("witness.test/w1", keys.origin(), keys.verifier_keys())
    with running_witness(state) as url:
        settings.CYBERQMS_TRAIL_WITNESSES = [f"{url} {state.key.encode()}"]
        yield state


def test_an_http_witness_cosigns_and_the_cosignature_is_kept(
    four_checkpoints: None, http_witness: WitnessState
) -> None:
    report = checkpoint_publish()
    assert (report.failed, report.ahead, http_witness.size) == ([], [], 45)
    kept = witness.local_witness().read()
    assert kept is not None
    lines = kept.rstrip("\n").split("\n")
    assert lines[-1].startswith("— witness.test/w1 ")
    assert witness.verified_cosignatures(witness.note_text(kept), lines, http_witness.key) == [
        lines[-1]
    ]


def test_the_next_publication_sends_a_consistency_proof_from_the_cosigned_size(
    four_checkpoints: None, http_witness: WitnessState,
    write_entries: Callable[..., list[int]],
) -> None:
    checkpoint_publish()
    write_entries(30)
    trail_seal()
    report = checkpoint_publish()
    assert (report.failed, http_witness.size) == ([], 75)
    assert http_witness.requests[-1].startswith("old 45\n")


def test_a_forgotten_state_is_corrected_by_the_witness_409(
    four_checkpoints: None, http_witness: WitnessState,
    write_entries: Callable[..., list[int]],
) -> None:
    checkpoint_publish()
    witness.state_path().unlink()
    write_entries(5)
    trail_seal()
    report = checkpoint_publish()
    assert (report.failed, http_witness.size) == ([], 50)
    assert [r.split("\n", 1)[0] for r in http_witness.requests] == ["old 0", "old 0", "old 45"]


def test_a_rolled_back_database_is_reported_by_the_http_witness(
    four_checkpoints: None, http_witness: WitnessState
) -> None:
    checkpoint_publish()
    _cut_back_to(25)
    witness.local_witness().path.unlink()
    witness.state_path().unlink()
    report = checkpoint_publish()
    description = f"witness witness.test/w1 at {http_witness_url()}"
    assert report.ahead == [
        f"{description} has cosigned 45 entries; the database's newest checkpoint covers 25: "
        "20 entries are missing (database restored from an older copy, or entries and "
        "checkpoints deleted)"
    ]
    event = SecurityEvent.objects.get(kind="trail.witness.ahead")
    assert (event.severity, event.message) == ("critical", f"Audit trail rolled back: "
                                               f"{report.ahead[0]}")


def http_witness_url() -> str:
    return str(witness.configured_witnesses()[0].url)


def test_a_witness_that_does_not_trust_the_log_is_a_failure(
    four_checkpoints: None, http_witness: WitnessState
) -> None:
    http_witness.log_keys = [verifier_key_from_signer(generate_signer_key(keys.origin()))]
    report = checkpoint_publish()
    assert report.failed == [
        f"witness witness.test/w1 at {http_witness_url()} refused the checkpoint "
        "of 45 entries (HTTP 403: no trusted signature)"
    ]


def test_an_unreachable_witness_is_a_failure(four_checkpoints: None, settings: Any) -> None:
    state = WitnessState("witness.test/w2", keys.origin(), keys.verifier_keys())
    settings.CYBERQMS_TRAIL_WITNESSES = [f"http://127.0.0.1:9/w {state.key.encode()}"]
    report = checkpoint_publish()
    assert report.failed == [
        "witness witness.test/w2 at http://127.0.0.1:9/w cannot be reached: "
        "[Errno 111] Connection refused"
    ]


def test_a_forged_cosignature_is_not_kept(
    four_checkpoints: None, http_witness: WitnessState
) -> None:
    impostor = WitnessState("witness.test/w1", keys.origin(), keys.verifier_keys())
    http_witness.private = impostor.private  # signs with a key the log was not told about
    report = checkpoint_publish()
    kept = witness.local_witness().read()
    assert report.failed == []
    assert kept == Checkpoint.objects.get(size=45).note


def test_the_siem_receives_each_new_checkpoint_once(
    four_checkpoints: None, settings: Any
) -> None:
    settings.CYBERQMS_SIEM_ADDRESS = "127.0.0.1:9"
    checkpoint_publish()
    checkpoint_publish()
    events = SecurityEvent.objects.filter(kind="trail.checkpoint.published")
    cp = Checkpoint.objects.get(size=45)
    assert [(e.message, e.data) for e in events] == [(
        f"Audit trail checkpoint: 45 entries, root {base64.b64encode(bytes(cp.root)).decode()}",
        {"size": 45, "note": cp.note},
    )]


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(("item", "message"), [
    ("https://w.example", "CYBERQMS_TRAIL_WITNESSES item 1 must be '<URL> <witness key>'"),
    ("ftp://w.example k", "CYBERQMS_TRAIL_WITNESSES item 1: the URL must start with https://"),
    ("https://w.example w+abcd1234+AAAA",
     "CYBERQMS_TRAIL_WITNESSES item 1: the witness key must be an Ed25519 cosignature/v1 "
     "key (type 0x04, 32 bytes)"),
    ("https://w.example w+00000000+" + base64.b64encode(b"\x04" + b"\x01" * 32).decode(),
     "CYBERQMS_TRAIL_WITNESSES item 1: the witness key id does not match its name and key"),
])
def test_a_malformed_witness_setting_is_named(settings: Any, item: str, message: str) -> None:
    settings.CYBERQMS_TRAIL_WITNESSES = [item]
    with pytest.raises(witness.WitnessConfigError) as error:
        witness.configured_witnesses()
    assert str(error.value) == message
