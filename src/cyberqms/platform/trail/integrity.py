"""Verification of the stored trail and reconciliation of live records against it.

`check_trail` reads only; `cyberqms.platform.trail.services.trail_verify` runs it and records the
outcome. What is checked, in one pass over the entries in sequence order:

* every checkpoint's Ed25519 signature, with the verifier keys from the key file's
  ``.pub`` (never from the database), and that its size/root columns match the note;
* sequence numbers start at 1 and are consecutive (a gap is a deletion);
* each body hashes to its recorded leaf hash (an edit of the entry);
* each entry's authenticator (trail/mac.py) matches: an entry the application did not
  write, appended at the tail before the next seal, is found here (entries from before
  authenticators existed have none and are accepted where a signed checkpoint covers them);
* each body names its own seq (entries moved or swapped) and agrees with the filter
  columns (a column edited to hide an entry from searches);
* the Merkle root after each checkpoint's size equals the signed root (edits that also
  forged the leaf hash, insertions, reorderings), located between the last good and the
  first bad checkpoint;
* the log head names the latest checkpoint; no checkpoint claims more entries than exist;
* every checkpoint kept outside the database (the witness directories, a file given with
  ``--against``) is consistent with the database's newest checkpoint, by a consistency
  proof; one larger than the database's trail reports the missing entries (rollback);
* every live audited record's state hash equals the state hash of its latest entry; on a
  mismatch the record's entries are replayed to name the fields that differ. Fields a
  later version added (absent from the replayed state) that still hold their default are
  not a difference: an upgrade that adds a field does not make every row look edited.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from cyberqms.platform.trail import keys, witness
from cyberqms.platform.trail.log import as_bytes, max_seq, prove_consistency
from cyberqms.platform.trail.mac import Verdict, mac_keys
from cyberqms.platform.trail.merkle import EMPTY_ROOT, CompactRange, ProofError, check_consistency
from cyberqms.platform.trail.models import Checkpoint, LogHead, Verification, VerificationResult
from cyberqms.platform.trail.note import NoteError, open_checkpoint
from cyberqms.platform.trail.record import replay
from cyberqms.platform.trail.registry import AuditedModel, all_audited, state_hash

MAX_PROBLEMS = 200
_FETCH = 20_000


@dataclass(frozen=True)
class Problem:
    kind: str  # "entry", "checkpoint", "head", "record"
    message: str
    seq: int | None = None
    size: int | None = None
    object_type: str = ""
    object_id: str = ""
    fields: tuple[str, ...] = ()
    fingerprint: str = ""

    @property
    def key(self) -> str:
        if self.kind == "entry":
            return f"entry:{self.seq}"
        if self.kind == "checkpoint":
            return f"checkpoint:{self.size}"
        if self.kind == "record":
            return f"record:{self.object_type}:{self.object_id}:{self.fingerprint}"
        return f"{self.kind}:{self.fingerprint or self.message[:100]}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "seq": self.seq,
            "size": self.size,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "fields": list(self.fields),
        }


@dataclass
class Report:
    mode: str
    started_at: datetime
    finished_at: datetime | None = None
    from_seq: int = 1
    to_seq: int = 0
    entries: int = 0
    checkpoints: int = 0
    records: int = 0
    unsealed: int = 0
    checkpoint_size: int = 0
    checkpoint_nodes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dropped: int = 0
    # The newest checkpoint read outside the database (None: there was none to compare).
    witness_size: int | None = None
    witness_source: str = ""
    witness_unreadable: list[str] = field(default_factory=list)
    # Incremental runs: the start of the passed run they continue from (records changed
    # since then, as their `updated_at` says, are reconciled with those the new entries name).
    since: datetime | None = None

    @property
    def witnessed(self) -> bool:
        return self.witness_size is not None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.dropped += 1


def _at_normalizer() -> Callable[[Any], str]:
    """Turn the `at` column as the driver returns it into the body's text form."""
    if connection.vendor == "sqlite":

        def from_sqlite(value: Any) -> str:
            text = str(value)
            if "." not in text:
                text += ".000000"
            return text[:10] + "T" + text[11:26] + "Z"

        return from_sqlite

    def from_datetime(value: Any) -> str:
        return str(value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    return from_datetime


def _signed_checkpoints(report: Report, after_size: int) -> dict[int, bytes]:
    """Signed roots by size for checkpoints above `after_size`; bad ones become problems."""
    trusted = keys.parsed_verifier_keys()
    origin = keys.origin()
    roots: dict[int, bytes] = {}
    for cp in Checkpoint.objects.filter(size__gt=after_size).order_by("size").iterator():
        report.checkpoints += 1
        try:
            parsed, _ = open_checkpoint(cp.note, trusted, origin)
        except NoteError as exc:
            report.add(Problem("checkpoint", f"checkpoint {cp.size}: {exc}", size=cp.size))
            continue
        if parsed.size != cp.size or parsed.root_hash != as_bytes(cp.root):
            report.add(
                Problem(
                    "checkpoint",
                    f"checkpoint {cp.size}: stored size/root differ from its signed note",
                    size=cp.size,
                )
            )
            continue
        roots[parsed.size] = parsed.root_hash
    return roots


def _start_point(report: Report, since_checkpoint: bool) -> CompactRange:
    """Where an incremental run starts: the last passed run's checkpoint, re-authenticated."""
    if not since_checkpoint:
        return CompactRange()
    previous = (
        Verification.objects.filter(result=VerificationResult.PASSED, checkpoint_size__gt=0)
        .order_by("-checkpoint_size")
        .first()
    )
    if previous is None:
        report.mode = "full"
        return CompactRange()
    report.since = previous.started_at
    size = previous.checkpoint_size
    checkpoint = Checkpoint.objects.filter(size=size).first()
    try:
        nodes = [bytes.fromhex(h) for h in previous.checkpoint_nodes]
        compact = CompactRange.from_nodes(size, nodes)
        if checkpoint is None:
            raise ValueError("checkpoint missing")
        parsed, _ = open_checkpoint(checkpoint.note, keys.parsed_verifier_keys(), keys.origin())
        if parsed.size != size or parsed.root_hash != compact.root():
            raise ValueError("start state does not match the signed checkpoint")
    except (ValueError, NoteError):
        # The saved start state cannot be trusted: fall back to checking everything.
        report.mode = "full"
        report.since = None
        return CompactRange()
    return compact


def _entry_rows(after_seq: int) -> Iterator[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq, leaf_hash, body, at, actor_id, action, object_type, object_id, "
            "state_hash, correlation_id, mac FROM trail_auditentry WHERE seq > %s ORDER BY seq",
            [after_seq],
        )
        while True:
            rows = cursor.fetchmany(_FETCH)
            if not rows:
                return
            yield from rows


def _column_mismatch(data: dict[str, Any], row: tuple[Any, ...], at_text: str) -> str | None:
    obj = data["object"]
    checks = (
        ("at", data["at"], at_text),
        ("actor_id", data["actor"]["id"], row[4]),
        ("action", data["action"], row[5]),
        ("object_type", obj["type"], row[6]),
        ("object_id", obj["id"], row[7]),
        ("state_hash", data["state"] or "", row[8]),
        ("correlation_id", data["correlation"], row[9]),
    )
    for name, expected, stored in checks:
        if expected != stored:
            return name
    return None


_FORGED = {
    Verdict.MISSING: "entry {seq}: not written by cyberqms (it carries no authenticator)",
    Verdict.UNKNOWN_KEY: "entry {seq}: not written by cyberqms (authenticator made with a key "
    "this trail never had)",
    Verdict.INVALID: "entry {seq}: not written by cyberqms (authenticator does not match)",
}


def _check_numbering(report: Report) -> None:
    """Sequence numbers start at 1: anything below was put there outside cyberqms."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM trail_auditentry WHERE seq < 1 ORDER BY seq")
        for (seq,) in cursor.fetchall():
            report.add(Problem(
                "entry",
                f"entry {seq}: not written by cyberqms (sequence numbers start at 1)",
                seq=seq,
            ))


def _check_entries(report: Report, compact: CompactRange, roots: dict[int, bytes]) -> None:
    sha = hashlib.sha256
    loads = json.loads
    normalize_at = _at_normalizer()
    expected = compact.size + 1
    last_good = compact.size
    root_failed = False
    sizes = sorted(roots)
    next_index = 0
    append = compact.append
    authenticators = mac_keys()
    # Entries written before authenticators existed have none; a signed checkpoint covering
    # them is their proof. Every entry beyond the signed trees must carry a valid one.
    signed_up_to = max([compact.size, *sizes])
    for row in _entry_rows(compact.size):
        seq = row[0]
        if seq > expected > signed_up_to and connection.vendor == "postgresql":
            # Numbers beyond the signed trees that no entry holds yet: in flight, or left by
            # a rolled-back change and voided at the next seal (trail/record.py). What
            # follows them is verified once sealed.
            break
        if seq != expected:
            report.add(
                Problem(
                    "entry",
                    f"entries {expected}..{seq - 1} are missing (deleted from the trail)"
                    if seq > expected
                    else f"entry {seq} is out of order",
                    seq=expected,
                )
            )
            # Continue from here; the Merkle check below reports the broken root.
            while compact.size < seq - 1:
                append(b"\x00" * 32)
            expected = seq
        body = row[2]
        computed = sha(b"\x00" + body.encode("utf-8")).digest()
        if computed != as_bytes(row[1]):
            report.add(
                Problem("entry", f"entry {seq}: content altered (hash does not match)", seq=seq)
            )
        else:
            try:
                data = loads(body)
                verdict = authenticators.verdict(computed, row[10])
                if data["seq"] != seq:
                    report.add(
                        Problem(
                            "entry",
                            f"entry {seq}: holds the entry recorded as {data['seq']} "
                            "(entries moved or swapped)",
                            seq=seq,
                        )
                    )
                elif verdict is not Verdict.VALID and (
                    verdict is not Verdict.MISSING or seq > signed_up_to
                ):
                    report.add(Problem("entry", _FORGED[verdict].format(seq=seq), seq=seq))
                else:
                    column = _column_mismatch(data, row, normalize_at(row[3]))
                    if column is not None:
                        report.add(
                            Problem(
                                "entry",
                                f"entry {seq}: column {column} altered (differs from the "
                                "hashed entry)",
                                seq=seq,
                                fields=(column,),
                            )
                        )
            except (ValueError, KeyError, TypeError):
                report.add(Problem("entry", f"entry {seq}: body is not a valid entry", seq=seq))
        append(computed)
        report.entries += 1
        expected = seq + 1
        while next_index < len(sizes) and sizes[next_index] < seq:
            next_index += 1
        if next_index < len(sizes) and sizes[next_index] == seq:
            next_index += 1
            if root_failed:
                continue
            if compact.root() != roots[seq]:
                root_failed = True
                report.add(
                    Problem(
                        "checkpoint",
                        f"checkpoint {seq}: entries {last_good + 1}..{seq} do not hash to the "
                        "signed root (altered, inserted, removed or reordered)",
                        size=seq,
                        seq=last_good + 1,
                    )
                )
            else:
                last_good = seq
                report.checkpoint_size = seq
                report.checkpoint_nodes = [n.hex() for n in compact.nodes()]
    report.to_seq = expected - 1
    beyond = [s for s in sizes if s > report.to_seq]
    if beyond:
        report.add(
            Problem(
                "checkpoint",
                f"checkpoint {beyond[-1]} covers entries up to {beyond[-1]} but the trail ends "
                f"at {report.to_seq}: entries {report.to_seq + 1}..{beyond[-1]} were deleted",
                size=beyond[-1],
                seq=report.to_seq + 1,
            )
        )
    report.unsealed = max(0, report.to_seq - (max(sizes) if sizes else report.checkpoint_size))


@dataclass(frozen=True)
class Witnessed:
    """A checkpoint kept outside the database, and where it was read."""

    source: str
    note: str


def _witnessed(report: Report, against: Witnessed | None) -> list[Witnessed]:
    found = [] if against is None else [against]
    for directory in witness.directory_witnesses():
        try:
            text = directory.read()
        except OSError as exc:
            report.witness_unreadable.append(f"{directory.describe()}: {exc.strerror or exc}")
            continue
        if text:
            found.append(Witnessed(directory.describe(), text))
    return found


def _check_witness(report: Report, against: Witnessed | None = None) -> None:
    """Compare the database with every checkpoint kept outside it (trail/witness.py).

    Each is checked by a consistency proof from its size to the database's newest signed
    checkpoint; one larger than the database's trail means entries are missing (a restored
    older copy, or entries cut back with their checkpoints). The newest one read is named
    in the report; none at all is said plainly (`Report.witness_size` stays None).
    """
    trusted = keys.parsed_verifier_keys()
    valid: list[tuple[Witnessed, int, bytes]] = []
    for item in _witnessed(report, against):
        try:
            parsed, _ = open_checkpoint(item.note, trusted, keys.origin())
        except NoteError as exc:
            report.add(Problem("head", f"the checkpoint in {item.source} is invalid: {exc}",
                               fingerprint=f"witness-invalid:{item.source}"[:100]))
            continue
        valid.append((item, parsed.size, parsed.root_hash))
    if not valid:
        return
    latest = Checkpoint.objects.order_by("-size").first()
    db_size = latest.size if latest is not None else 0
    db_root = as_bytes(latest.root) if latest is not None else EMPTY_ROOT
    entries = max_seq()
    for item, size, root in valid:
        if size > db_size:
            missing = size - entries
            message = (
                f"the database is behind the checkpoint in {item.source}: it signed {size} "
                f"entries, the database's trail holds {entries}: {missing} entries are "
                "missing (database restored from an older copy, or entries and checkpoints "
                "deleted)"
                if missing > 0
                else f"the checkpoint in {item.source} signed {size} entries but the "
                f"database's newest checkpoint covers {db_size}: checkpoints were deleted"
            )
            report.add(Problem("checkpoint", message, size=size, seq=min(entries, db_size) + 1,
                               fingerprint=f"witness-{size}"))
            continue
        try:
            check_consistency(size, db_size, root, db_root, prove_consistency(size, db_size))
        except (ProofError, LookupError):
            report.add(Problem(
                "checkpoint",
                f"the database's trail is not an extension of the checkpoint of {size} "
                f"entries in {item.source} (history rewritten)",
                size=size, seq=1, fingerprint=f"witness-{size}",
            ))
    newest, size, _root = max(valid, key=lambda v: v[1])
    report.witness_size = size
    report.witness_source = newest.source


def _check_head(report: Report) -> None:
    current = LogHead.objects.filter(pk=1).first()
    latest = Checkpoint.objects.order_by("-size").first()
    if latest is None:
        return
    if current is None or current.size != latest.size or as_bytes(current.root) != as_bytes(
        latest.root
    ):
        report.add(
            Problem(
                "head",
                f"log head does not name the latest checkpoint ({latest.size})",
                fingerprint=f"{latest.size}",
            )
        )


# The state hash of each record's latest entry; `_WITHIN` narrows it to some records.
_LATEST = (
    "SELECT e.object_id, e.state_hash FROM trail_auditentry e JOIN ("
    " SELECT object_id, MAX(seq) AS last FROM trail_auditentry"
    " WHERE object_type = %s AND state_hash <> ''{} GROUP BY object_id) l"
    " ON e.seq = l.last"
)
_WITHIN = " AND object_id IN ({})"


def _latest_states(type_name: str, only: Sequence[str] | None = None) -> dict[str, str]:
    """The state hash of each record's latest entry (of the records `only` names)."""
    if only is not None:
        found: dict[str, str] = {}
        for start in range(0, len(only), _IN_CHUNK):
            found.update(_latest_states_where(type_name, only[start:start + _IN_CHUNK]))
        return found
    return _latest_states_where(type_name, None)


def _latest_states_where(type_name: str, ids: Sequence[str] | None) -> dict[str, str]:
    within = "" if ids is None else _WITHIN.format(", ".join(["%s"] * len(ids)))
    with connection.cursor() as cursor:
        cursor.execute(_LATEST.format(within), [type_name, *(ids or ())])
        return {str(object_id): digest for object_id, digest in cursor.fetchall()}


_IN_CHUNK = 500  # ids per IN (...) list


def _key(spec: AuditedModel, ident: str) -> Any:
    """An entry's object id as the model's primary key, or None (not one of its keys)."""
    try:
        return spec.model._meta.pk.to_python(ident)
    except (TypeError, ValueError, ValidationError):
        return None


def _changed_since(spec: AuditedModel, after_seq: int, since: datetime | None) -> list[str]:
    """Incremental runs: the records of `spec` that entries after `after_seq` name, and
    those whose `updated_at` is at or after `since` (a change outside cyberqms that kept
    `updated_at` is left to the full run)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT object_id FROM trail_auditentry WHERE object_type = %s AND seq > %s",
            [spec.type_name, after_seq],
        )
        ids = {str(row[0]) for row in cursor.fetchall()}
    if since is not None and any(f.name == "updated_at" for f in spec.model._meta.concrete_fields):
        ids.update(str(pk) for pk in spec.model._default_manager.filter(
            updated_at__gte=since).values_list("pk", flat=True))
    return sorted(ids)


def _reconcile_model(
    report: Report, spec: AuditedModel, only: list[str] | None = None
) -> None:
    """Compare each record (those `only` names, or all) with its latest audit entry."""
    latest = _latest_states(spec.type_name, only)
    records = spec.model._default_manager.all()
    if only is not None:
        keys = [key for key in (_key(spec, ident) for ident in only) if key is not None]
        records = records.filter(pk__in=keys)
    for obj in records.order_by("pk").iterator(chunk_size=2000):
        report.records += 1
        ident = str(obj.pk)
        live = spec.state(obj)
        digest = state_hash(live)
        recorded = latest.pop(ident, None)
        if recorded == digest:
            continue
        # Only a record that differs is named: its label may read another row (a comment's
        # record number), which a record that agrees with the trail never pays for.
        label = spec.label(obj)
        if recorded is None:
            report.add(
                Problem(
                    "record",
                    f"{spec.type_name} {ident} ({label}) has no audit entry: created outside "
                    "cyberqms",
                    object_type=spec.type_name,
                    object_id=ident,
                    fingerprint=digest[:16],
                )
            )
        else:
            replayed = replay(spec.type_name, ident)
            differ = [k for k in live if k not in replayed or replayed[k] != live[k]]
            # Fields a later version added (absent from the replayed state), still at the
            # default their migration gave the rows it found, are as the trail left them.
            added = {k for k in differ
                     if k not in replayed and live[k] == spec.default_state(k)}
            if differ and len(added) == len(differ):
                continue
            fields = tuple(sorted(k for k in differ if k not in added))
            what = ", ".join(fields) if fields else "state"
            report.add(
                Problem(
                    "record",
                    f"{spec.type_name} {ident} ({label}) was changed outside cyberqms: "
                    f"{what} {'differs' if len(fields) == 1 else 'differ'} from the audit "
                    "trail",
                    object_type=spec.type_name,
                    object_id=ident,
                    fields=fields,
                    fingerprint=digest[:16],
                )
            )
    for ident, recorded in latest.items():
        if recorded != "deleted":
            report.add(
                Problem(
                    "record",
                    f"{spec.type_name} {ident} is in the audit trail but missing from the "
                    "database: deleted outside cyberqms",
                    object_type=spec.type_name,
                    object_id=ident,
                    fingerprint="deleted",
                )
            )


def check_trail(
    *, since_checkpoint: bool = False, reconcile: bool = True, against: Witnessed | None = None
) -> Report:
    """Verify the trail (fully, or from the last passed checkpoint), compare it with the
    witnessed checkpoints (and `against`, one kept anywhere) and reconcile records."""
    report = Report(mode="incremental" if since_checkpoint else "full", started_at=timezone.now())
    compact = _start_point(report, since_checkpoint)
    report.from_seq = compact.size + 1
    report.checkpoint_size = compact.size
    report.checkpoint_nodes = [n.hex() for n in compact.nodes()]
    roots = _signed_checkpoints(report, compact.size)
    _check_numbering(report)
    _check_entries(report, compact, roots)
    _check_head(report)
    _check_witness(report, against)
    if reconcile:
        incremental = report.mode == "incremental"
        for spec in all_audited():
            only = (_changed_since(spec, report.from_seq - 1, report.since) if incremental
                    else None)
            if only != []:
                _reconcile_model(report, spec, only)
    report.finished_at = timezone.now()
    return report
