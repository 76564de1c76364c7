"""`cyberqms trail ...`: verify, prove, checkpoint, export, keys.

Run by an operator on the server, as the system (channel "cli"); every state change still
goes through the trail services and is audited. Exit status: 0 success or intact, 1
verification failed or the trail is damaged, 2 usage error (`UsageError`, bad arguments).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.trail import keys
from cyberqms.platform.trail.export import ExportError, write_export
from cyberqms.platform.trail.integrity import Report, Witnessed
from cyberqms.platform.trail.log import (
    SealRefusedError,
    head,
    latest_checkpoint,
    max_seq,
    prove_consistency,
    prove_inclusion,
)
from cyberqms.platform.trail.mac import MacKeyError, mac_path
from cyberqms.platform.trail.merkle import leaf_hash as merkle_leaf_hash
from cyberqms.platform.trail.merkle import verify_consistency, verify_inclusion
from cyberqms.platform.trail.models import AuditEntry, Checkpoint
from cyberqms.platform.trail.publish import checkpoint_publish
from cyberqms.platform.trail.services import key_rotate, trail_checkpoint, trail_verify
from cyberqms.platform.trail.witness import WitnessConfigError


class UsageError(CommandError):
    """A request the command cannot carry out as asked: exit status 2, as documented."""

    def __init__(self, message: str) -> None:
        super().__init__(message, returncode=2)


def witness_line(report: Report) -> str:
    """What the verification compared with outside the database, said plainly."""
    if report.witnessed:
        return (
            f"Compared with the witnessed checkpoint of {report.witness_size} entries "
            f"({report.witness_source})."
        )
    return (
        "No witnessed checkpoint was available: a database restored from an older copy, or "
        "cut back with its checkpoints, would not be noticed. Give one with --against FILE "
        "or configure CYBERQMS_TRAIL_WITNESS_DIRS (docs/audit-trail.md)."
    )


class Command(BaseCommand):
    help = "Verify, prove, seal and export the tamper-evident audit trail."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        verify = sub.add_parser("verify", help="verify the whole trail and reconcile records")
        verify.add_argument("--since-checkpoint", action="store_true",
                            help="start from the checkpoint of the last passed verification")
        verify.add_argument("--no-reconcile", action="store_true",
                            help="skip comparing live records with their latest entries")
        verify.add_argument("--json", action="store_true", help="print the report as JSON")
        verify.add_argument(
            "--against", metavar="FILE",
            help="also check the database against this signed checkpoint, kept anywhere "
            "(a witness copy, a SIEM export, a printout typed back)",
        )
        prove = sub.add_parser("prove", help="inclusion proof of entry SEQ")
        prove.add_argument("seq", type=int)
        prove.add_argument("--size", type=int, help="tree size (default: latest checkpoint)")
        consistency = sub.add_parser("consistency", help="consistency proof OLD -> NEW")
        consistency.add_argument("old", type=int)
        consistency.add_argument("new", type=int, nargs="?")
        sub.add_parser("checkpoint", help="seal a signed checkpoint now")
        sub.add_parser(
            "witness", help="publish the newest checkpoint to the witnesses and the SIEM now"
        )
        export = sub.add_parser("export", help="export entries with checkpoints and proofs")
        export.add_argument("file", help="output file (JSON lines), - for standard output")
        export.add_argument("--from", dest="from_seq", type=int)
        export.add_argument("--to", dest="to_seq", type=int)
        sub.add_parser("public-key", help="print the verifier keys (current and retired)")
        rotate = sub.add_parser(
            "rotate-key", help="replace the checkpoint signing key and the entry authenticator key"
        )
        rotate.add_argument("--reason", required=True)
        sub.add_parser("status", help="entries, log head, latest checkpoint")

    def handle(self, *args: Any, **options: Any) -> None:
        with acting_context(RequestContext(channel="cli")):
            handler = getattr(self, "do_" + options["subcommand"].replace("-", "_"))
            try:
                handler(options)
            except (
                ValidationError, ExportError, LookupError, keys.KeyFileError, MacKeyError
            ) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                raise UsageError(text) from None
            except SealRefusedError as exc:
                raise CommandError(f"nothing sealed: {exc}") from None

    # --- subcommands ----------------------------------------------------------------------

    def do_verify(self, options: dict[str, Any]) -> None:
        against = None
        if options["against"]:
            path = Path(options["against"])
            try:
                against = Witnessed(f"file {path}", path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read the checkpoint {path}: {exc}") from None
        verification, report = trail_verify(
            since_checkpoint=options["since_checkpoint"], reconcile=not options["no_reconcile"],
            against=against,
        )
        seconds = max((verification.finished_at - verification.started_at).total_seconds(), 1e-9)
        if options["json"]:
            self.stdout.write(json.dumps({
                "result": verification.result,
                "mode": report.mode,
                "from_seq": report.from_seq,
                "to_seq": report.to_seq,
                "entries": report.entries,
                "checkpoints": report.checkpoints,
                "records": report.records,
                "unsealed": report.unsealed,
                "witness": {"size": report.witness_size, "source": report.witness_source}
                if report.witnessed else None,
                "problems": [p.as_dict() for p in report.problems],
            }, indent=2))
        else:
            self.stdout.write(
                f"{report.mode} verification: {report.entries} entries "
                f"(seq {report.from_seq}..{report.to_seq}), {report.checkpoints} checkpoints, "
                f"{report.records} live records in {seconds:.2f} s "
                f"({report.entries / seconds:,.0f} entries/s)"
            )
            if report.unsealed:
                self.stdout.write(f"{report.unsealed} newest entries are not sealed yet.")
            for unreadable in report.witness_unreadable:
                self.stdout.write(self.style.WARNING(f"Could not read the {unreadable}"))
            self.stdout.write(witness_line(report))
        if report.ok:
            if not options["json"]:  # standard output stays one JSON document
                self.stdout.write(self.style.SUCCESS(
                    "INTACT: the audit trail verifies."
                    if report.witnessed else
                    "INTACT as far as the database shows; not compared with a witnessed "
                    "checkpoint."
                ))
            return
        first = report.first
        assert first is not None
        where = f"first bad entry: seq {first.seq}. " if first.seq is not None else ""
        self.stderr.write(self.style.ERROR(f"FAILED: {where}{first.message}"))
        for problem in report.problems[1:20]:
            self.stderr.write(f"  - {problem.message}")
        if len(report.problems) > 20:
            self.stderr.write(f"  ... and {len(report.problems) - 20} more")
        sys.exit(1)

    def _size(self, size: int | None) -> int:
        if size is not None:
            if not Checkpoint.objects.filter(size=size).exists():
                raise UsageError(f"there is no checkpoint of size {size}")
            return size
        trail_checkpoint()
        latest = latest_checkpoint()
        if latest is None:
            raise UsageError("the trail is empty")
        return latest.size

    def do_prove(self, options: dict[str, Any]) -> None:
        seq = options["seq"]
        size = self._size(options["size"])
        if not 1 <= seq <= size:
            raise UsageError(f"seq must be between 1 and the tree size {size}")
        proof = prove_inclusion(seq, size)  # a LookupError if entries are missing
        entry = AuditEntry.objects.get(seq=seq)
        checkpoint = Checkpoint.objects.get(size=size)
        root = bytes(checkpoint.root)
        leaf = merkle_leaf_hash(entry.body.encode("utf-8"))
        ok = verify_inclusion(leaf, seq - 1, size, proof, root)
        self.stdout.write(json.dumps({
            "seq": seq,
            "leaf_index": seq - 1,
            "tree_size": size,
            "leaf_hash": leaf.hex(),
            "root_hash": root.hex(),
            "inclusion_proof": [h.hex() for h in proof],
            "checkpoint": checkpoint.note,
            "verified": ok,
        }, indent=2))
        if not ok:
            sys.exit(1)

    def do_consistency(self, options: dict[str, Any]) -> None:
        old = options["old"]
        new = self._size(options["new"])
        if not Checkpoint.objects.filter(size=old).exists():
            raise UsageError(f"there is no checkpoint of size {old}")
        if old > new:
            raise UsageError("the old size must not exceed the new size")
        proof = prove_consistency(old, new)
        old_root = bytes(Checkpoint.objects.get(size=old).root)
        new_root = bytes(Checkpoint.objects.get(size=new).root)
        ok = verify_consistency(old, new, old_root, new_root, proof)
        self.stdout.write(json.dumps({
            "old_size": old, "new_size": new,
            "old_root": old_root.hex(), "new_root": new_root.hex(),
            "consistency_proof": [h.hex() for h in proof], "verified": ok,
        }, indent=2))
        if not ok:
            sys.exit(1)

    def do_checkpoint(self, options: dict[str, Any]) -> None:
        result = trail_checkpoint()
        if result.checkpoint is None:
            current = latest_checkpoint()
            size = current.size if current else 0
            self.stdout.write(f"Nothing new to seal; the latest checkpoint covers {size} entries.")
            return
        self.stdout.write(f"Sealed {result.added} new entries.")
        self.stdout.write(result.checkpoint.note)

    def do_export(self, options: dict[str, Any]) -> None:
        target = options["file"]

        def progress(count: int) -> None:
            self.stderr.write(f"  exported {count:,} entries", ending="\r")

        if target == "-":
            summary = write_export(self.stdout, from_seq=options["from_seq"],
                                   to_seq=options["to_seq"])
        else:
            path = Path(target)
            # Written aside and renamed when complete: a refused or failed export never
            # truncates an earlier file or leaves one that looks complete.
            partial = path.with_name(path.name + ".partial")
            try:
                with partial.open("w", encoding="utf-8", newline="\n") as stream:
                    summary = write_export(stream, from_seq=options["from_seq"],
                                           to_seq=options["to_seq"], progress=progress)
                partial.replace(path)
            except OSError as exc:
                raise UsageError(f"cannot write {target}: {exc.strerror}") from None
            finally:
                partial.unlink(missing_ok=True)
        keys_text = " ".join(f"--key '{k}'" for k in keys.verifier_keys())
        self.stderr.write(
            f"Exported entries {summary.from_seq}..{summary.to_seq} ({summary.entries} "
            f"entries, {summary.checkpoints} checkpoints inside, anchored at tree size "
            f"{summary.anchor_size}).\nVerify offline with:\n"
            f"  python -m cyberqms.platform.trail.verify {target} {keys_text}"
        )

    def do_witness(self, options: dict[str, Any]) -> None:
        try:
            report = checkpoint_publish()
        except WitnessConfigError as exc:
            raise UsageError(str(exc)) from None
        if not report.size:
            self.stdout.write("No checkpoint yet: nothing to publish.")
            return
        self.stdout.write(f"Checkpoint of {report.size} entries:")
        for name in report.written:
            self.stdout.write(f"  held by the {name}")
        for problem in report.ahead:
            self.stderr.write(self.style.ERROR(f"  ROLLBACK: {problem}"))
        for problem in report.failed:
            self.stderr.write(self.style.WARNING(f"  not witnessed: {problem}"))
        if not report.ok:
            sys.exit(1)

    def do_public_key(self, options: dict[str, Any]) -> None:
        for info in keys.key_infos():
            suffix = "" if info.current else "   # retired"
            self.stdout.write(info.verifier + suffix)

    def do_rotate_key(self, options: dict[str, Any]) -> None:
        old, new = key_rotate(reason=options["reason"])
        self.stdout.write(f"Retired: {old}\nCurrent: {new}")
        self.stdout.write("Checkpoints signed by the retired key stay verifiable with it.")
        self.stdout.write(
            "New entries are authenticated with a new key; earlier entries keep theirs."
        )

    def do_status(self, options: dict[str, Any]) -> None:
        current = head()
        latest = latest_checkpoint()
        self.stdout.write(f"origin:      {keys.origin()}")
        self.stdout.write(f"entries:     {max_seq()}")
        self.stdout.write(f"log head:    {current.size}")
        if latest is not None:
            self.stdout.write(f"checkpoint:  {latest.size} at {latest.signed_at.isoformat()}")
        self.stdout.write(f"key file:    {keys.key_path()}")
        self.stdout.write(f"entry key:   {mac_path()}")
