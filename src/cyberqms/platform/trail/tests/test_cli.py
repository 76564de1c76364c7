"""`cyberqms trail …`: output, exit status and refusals, in-process and as a real process."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cyberqms.platform.trail import keys
from cyberqms.platform.trail.mac import mac_path
from cyberqms.platform.trail.models import AuditEntry, Checkpoint
from cyberqms.platform.trail.tests.tampering import body, set_body, sql
from cyberqms.platform.trail.verify import verify_export_file

pytestmark = pytest.mark.usefixtures("sealed_trail")


def trail(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("trail", *args, stdout=out, stderr=err, no_color=True)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        trail(*args)
    return caught.value


def test_verify_intact_exits_zero_and_reports() -> None:
    """CYB-02: `trail verify` on an intact trail."""
    out, err = trail("verify")
    assert err == ""
    lines = out.splitlines()
    assert re.fullmatch(
        r"full verification: 45 entries \(seq 1\.\.45\), 3 checkpoints, 0 live records in "
        r"\d+\.\d\d s \([\d,]+ entries/s\)", lines[0]
    )
    assert lines[1:] == [
        "5 newest entries are not sealed yet.",
        "No witnessed checkpoint was available: a database restored from an older copy, or "
        "cut back with its checkpoints, would not be noticed. Give one with --against FILE "
        "or configure CYBERQMS_TRAIL_WITNESS_DIRS (docs/audit-trail.md).",
        "INTACT as far as the database shows; not compared with a witnessed checkpoint.",
    ]


def test_verify_json() -> None:
    out, _ = trail("verify", "--json", "--no-reconcile")
    assert json.loads(out) == {
        "result": "passed", "mode": "full", "from_seq": 1, "to_seq": 45, "entries": 45,
        "checkpoints": 3, "records": 0, "unsealed": 5, "witness": None, "problems": [],
    }


@pytest.mark.usefixtures("unguarded")
def test_verify_tampered_exits_one_naming_the_first_bad_entry() -> None:
    """P11-02: exit status 1 and the first bad entry by seq."""
    set_body(17, body(17).replace('"thing ', '"Thing '))
    with pytest.raises(SystemExit) as exited:
        trail("verify")
    assert exited.value.code == 1
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("trail", "verify", stdout=StringIO(), stderr=err, no_color=True)
    assert err.getvalue().splitlines() == [
        "FAILED: first bad entry: seq 17. entry 17: content altered (hash does not match)",
        "  - checkpoint 25: entries 11..25 do not hash to the signed root (altered, inserted, "
        "removed or reordered)",
    ]


def test_prove_prints_a_verified_inclusion_proof() -> None:
    """CYB-02: the proof seals first, so the newest entry is provable at once."""
    out, _ = trail("prove", "45")
    proof = json.loads(out)
    checkpoint = Checkpoint.objects.get(size=45)
    assert (proof["seq"], proof["leaf_index"], proof["tree_size"], proof["verified"],
            proof["root_hash"], proof["checkpoint"]) == (
        45, 44, 45, True, bytes(checkpoint.root).hex(), checkpoint.note
    )
    assert proof["leaf_hash"] == bytes(AuditEntry.objects.get(seq=45).leaf_hash).hex()
    out, _ = trail("prove", "17", "--size", "25")
    assert (json.loads(out)["tree_size"], json.loads(out)["verified"]) == (25, True)


def test_consistency_prints_a_verified_proof() -> None:
    out, _ = trail("consistency", "10", "40")
    proof = json.loads(out)
    assert (proof["old_size"], proof["new_size"], proof["verified"]) == (10, 40, True)
    assert len(proof["consistency_proof"]) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("prove", "0"), "seq must be between 1 and the tree size 45"),
        (("prove", "46"), "seq must be between 1 and the tree size 45"),
        (("prove", "3", "--size", "30"), "there is no checkpoint of size 30"),
        (("consistency", "25", "10"), "the old size must not exceed the new size"),
        (("consistency", "11"), "there is no checkpoint of size 11"),
        (("export", "-", "--to", "99"), "--to 99 is past the last entry (45)."),
        (("export", "-", "--from", "50"), "--from 50 is past the last entry (45)."),
        (("export", "-", "--from", "0"), "--from must be 1 or more."),
        (("rotate-key", "--reason", "  "), "A reason is required."),
    ],
)
def test_bad_arguments_are_refused_with_a_message(args: tuple[str, ...], message: str) -> None:
    error = refused(*args)
    assert (str(error), error.returncode) == (message, 2)


def test_missing_arguments_are_refused_by_the_parser() -> None:
    assert str(refused("prove")) == "Error: the following arguments are required: seq"
    assert str(refused("rotate-key")) == (
        "Error: the following arguments are required: --reason"
    )


def test_export_to_an_unwritable_path_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "trail.jsonl"
    error = refused("export", str(target))
    assert (str(error), error.returncode) == (
        f"cannot write {target}: No such file or directory", 2
    )
    error = refused("export", str(tmp_path))
    assert str(error) == f"cannot write {tmp_path}: Is a directory"


def test_refused_export_leaves_an_earlier_file_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "trail.jsonl"
    target.write_text("earlier export\n", encoding="utf-8")
    refused("export", str(target), "--to", "99")
    assert target.read_text(encoding="utf-8") == "earlier export\n"
    assert sorted(p.name for p in folder.iterdir()) == ["trail.jsonl"]


@pytest.mark.usefixtures("unguarded")
def test_proof_over_a_deleted_entry_is_refused() -> None:
    sql("DELETE FROM trail_auditentry WHERE seq = 17")
    error = refused("prove", "17", "--size", "25")
    assert str(error) == "audit entries 1..25 are incomplete"


@pytest.mark.usefixtures("unguarded")
def test_export_of_an_unreadable_entry_is_refused_with_its_seq(tmp_path: Path) -> None:
    set_body(17, body(17)[:-1])
    target = tmp_path / "trail.jsonl"
    error = refused("export", str(target))
    assert (str(error), error.returncode) == (
        "Entry 17 is not a valid entry and cannot be exported; run `cyberqms trail verify`.", 2
    )
    assert not target.exists()


def test_export_writes_a_file_that_verifies_offline(tmp_path: Path) -> None:
    """CYB-02, P11-09: the file and the printed verifier keys are all an inspector needs."""
    target = tmp_path / "trail.jsonl"
    _, err = trail("export", str(target), "--from", "5", "--to", "30")
    key = keys.read_verifier_keys()[0]
    assert err == (
        "Exported entries 5..30 (26 entries, 2 checkpoints inside, anchored at tree size 45)."
        f"\nVerify offline with:\n  python -m cyberqms.platform.trail.verify {target} --key '{key}'\n"
    )
    report = verify_export_file(str(target), [key])
    assert (report.ok, report.entries, report.from_seq, report.to_seq) == (True, 26, 5, 30)


def test_checkpoint_public_key_status_and_rotation() -> None:
    out, _ = trail("checkpoint")
    note = Checkpoint.objects.get(size=45).note
    assert out == f"Sealed 5 new entries.\n{note}"
    assert note.endswith("\n")
    assert trail("checkpoint")[0] == (
        "Nothing new to seal; the latest checkpoint covers 45 entries.\n"
    )
    first = keys.signer().verifier().encode()
    assert trail("public-key")[0] == f"{first}\n"

    out, _ = trail("rotate-key", "--reason", "Key custodian left")
    second = keys.signer().verifier().encode()
    assert out == (
        f"Retired: {first}\nCurrent: {second}\n"
        "Checkpoints signed by the retired key stay verifiable with it.\n"
        "New entries are authenticated with a new key; earlier entries keep theirs.\n"
    )
    assert trail("public-key")[0] == f"{first}   # retired\n{second}\n"
    status = trail("status")[0].splitlines()
    assert status[:3] == ["origin:      cyberqms.local/trail", "entries:     46",
                          "log head:    46"]
    assert status[3].startswith("checkpoint:  46 at ")
    assert status[4:] == [f"key file:    {keys.key_path()}", f"entry key:   {mac_path()}"]
