"""Ransomware and mass modification on a restored copy (CYB-09, issue 19 item 5): never the
live database.

The parent (`play_on_copy`) restores the newest backup into an isolated copy (the restore
test's own machinery, platform/backups/restore.py) and runs `cyberqms drill copy-attack`
in a process whose database is that copy. There (`attack_copy`):

1. **Work after the backup**: people comment on records, as a morning's work would; this
   is what the recovery will lose.
2. **The attack**, as ransomware with database access: the deletion guards dropped, the
   descriptions of records of every kind overwritten ("encrypted"), comments deleted,
   straight in the database (no audit entry, no event).
3. **Detection**: the trail's full verification, as the scheduler runs it; its critical
   event goes through the monitoring pipeline, whose rule raises the alert. Time to detect
   runs from the attack to that alert; the records it names are counted against those
   attacked.
4. **Recovery**: the copy replaced by the backup (`backup restore`), then its trail
   verified against the manifest's checkpoint. Time to recover, and what is lost: the
   audit entries and records written after the backup.

The report is one JSON line on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

AUDIT_RULE = "cfd8c045-d651-4739-963c-a48faeb3ed8b"  # audit-trail verification failed
PER_KIND = 25  # records of each kind the ransomware overwrites
WORK = 8  # comments written after the backup
COPY_MARK = "ransomware-copy"  # the drill mark of the alerts raised in the copy


def play_on_copy(drill: Any) -> dict[str, Any]:
    """Play the drill on a copy of the newest backup; what was measured there.
    :raises BackupError: there is no backup, or it cannot be restored."""
    from cyberqms.platform.backups.container import BackupError, derive, read_key
    from cyberqms.platform.backups.restore import isolated_copy, open_backup
    from cyberqms.platform.backups.verify import newest_backup

    path = newest_backup()
    keys = derive(read_key(Path(settings.CYBERQMS_BACKUP_KEY_FILE), create=False))
    manifest = open_backup(path, keys)
    with isolated_copy(path, keys, manifest) as copy:
        given = copy.folder / "manifest.json"
        given.write_text(json.dumps(manifest), encoding="utf-8")
        env = {**copy.env, "CYBERQMS_BACKUP_KEY_FILE": str(settings.CYBERQMS_BACKUP_KEY_FILE),
               "CYBERQMS_DETECTION": "inline", "CYBERQMS_MONITOR_OWN_EVENTS": "1"}
        done = subprocess.run(  # noqa: S603  # this interpreter, fixed arguments
            [sys.executable, "-m", "cyberqms", "drill", "copy-attack", str(given),
             str(path)], env=env, cwd=copy.folder, capture_output=True, text=True,
            timeout=3600, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise BackupError("The drill on the copy did not finish: "
                          f"{(done.stderr or done.stdout).strip()[-800:]}")
    measured: dict[str, Any] = json.loads(lines[-1])
    measured["backup"] = path.name
    measured["restore_s"] = round(copy.seconds, 3)
    measured["rto_s"] = _rto_seconds()
    return measured


def _rto_seconds() -> float | None:
    from cyberqms.assets.restores.recording import self_system

    system = self_system()
    if system is None or system.rto_hours is None:
        return None
    return float(system.rto_hours) * 3600


# --- inside the copy -------------------------------------------------------------------------


def _work(count: int) -> tuple[int, int]:
    """Comments people write after the backup: (records commented, entries written)."""
    from cyberqms.platform.kit.record_parts import comment_add
    from cyberqms.platform.kit.records import registered_kinds
    from cyberqms.platform.trail.log import max_seq

    before = max_seq()
    written = 0
    for kind in registered_kinds():
        if written >= count:
            break
        for record in kind.model._default_manager.filter(is_deleted=False).exclude(
                state__in=kind.closed_states).select_related("owner")[:2]:
            try:
                comment_add(record, actor=record.owner, body="Checked on the shop floor: "
                                                             "as described.")
            except (PermissionDenied, ValidationError):
                continue  # a record its owner may no longer comment on: the next one
            written += 1
            if written >= count:
                break
    return written, max_seq() - before


def _attack() -> tuple[int, int, list[tuple[str, str]]]:
    """Overwrite records of every kind and delete comments, straight in the database.
    (records modified, rows deleted, the (type, id) of each record attacked)."""
    from cyberqms.platform.core import guards as kept_guards
    from cyberqms.platform.core.models import Comment
    from cyberqms.platform.kit.records import registered_kinds

    attacked: list[tuple[str, str]] = []
    stamp = secrets.token_hex(4)
    quote = connection.ops.quote_name
    with transaction.atomic():
        kept_guards.remove(connection)
        with connection.cursor() as cursor:
            for kind in registered_kinds():
                table = kind.model._meta.db_table
                ids = list(kind.model._default_manager.order_by("pk")
                           .values_list("pk", flat=True)[:PER_KIND])
                if not ids:
                    continue
                marks = ", ".join(["%s"] * len(ids))
                cursor.execute(
                    f"UPDATE {quote(table)} SET description = %s WHERE id IN ({marks})",  # noqa: S608  # a model's table, quoted; values bound
                    [f"Your files are encrypted ({stamp}). Pay to recover them.", *ids])
                attacked += [(kind.type_name, str(i)) for i in ids]
            comments = list(Comment.objects.order_by("pk").values_list("pk", flat=True)[:40])
            if comments:
                marks = ", ".join(["%s"] * len(comments))
                cursor.execute(f"DELETE FROM {quote(Comment._meta.db_table)} "  # noqa: S608  # a model's table, quoted
                               f"WHERE id IN ({marks})", comments)
            attacked += [("core.comment", str(c)) for c in comments]
    return len(attacked) - len(comments), len(comments), attacked


def _detect(since: dt.datetime, attacked: list[tuple[str, str]]) -> dict[str, Any]:
    """The scheduled full verification, its event through the pipeline; the alerts."""
    from cyberqms.platform.core.models import SecurityEvent
    from cyberqms.platform.trail.services import trail_verify
    from cyberqms.security.monitoring.marker import drill_marker
    from cyberqms.security.monitoring.models import Alert
    from cyberqms.security.monitoring.own_events import ingest_own_events

    _verification, report = trail_verify(since_checkpoint=False)
    events = list(SecurityEvent.objects.filter(created_at__gte=since).values_list(
        "pk", flat=True))
    # Marked as the drill's: its alerts are new ones, never an extension of an alert the
    # copy's history left open (the demo's own audit-trail alert, say).
    with drill_marker(COPY_MARK):
        if events:
            ingest_own_events.call(events)
    alerts = list(Alert.objects.filter(drill=COPY_MARK).order_by("created_at"))
    expected = [a for a in alerts if a.rule_id == AUDIT_RULE]
    found = {(p.object_type, p.object_id) for p in report.problems if p.kind == "record"}
    return {
        "alerts": [a.title for a in alerts],
        "expected_alerts": sorted({a.title for a in expected}),
        "detect_s": round((expected[0].created_at - since).total_seconds(), 3)
        if expected else None,
        "problems": len(report.problems) + report.dropped,
        # Problems past the report's limit are counted, not listed: counted as found.
        "found_records": min(len(attacked), len(found & set(attacked)) + report.dropped),
        "attacked_records": len(attacked),
    }


def _recover(backup: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    from cyberqms.platform.backups.container import derive, read_key
    from cyberqms.platform.backups.recover import backup_restore
    from cyberqms.platform.trail.integrity import Witnessed, check_trail

    keys = derive(read_key(Path(settings.CYBERQMS_BACKUP_KEY_FILE), create=False))
    started = time.perf_counter()
    backup_restore(backup, keys=keys, replace=True,
                   reason="Ransomware drill: the copy recovered from its backup")
    recover_s = time.perf_counter() - started
    checkpoint = manifest.get("checkpoint") or {}
    report = check_trail(against=Witnessed("the backup's manifest", checkpoint["note"])
                         if checkpoint else None)
    return {"recover_s": round(recover_s, 3), "recovered_ok": report.ok,
            "recovered_detail": "the restored trail verifies against the backup's checkpoint"
            if report.ok else (report.first.message if report.first else "")}


def attack_copy(manifest: dict[str, Any], backup: Path) -> dict[str, Any]:
    """The drill, inside the isolated copy (see the module's docstring)."""
    from cyberqms.platform.core.models import Comment

    comments_before = Comment.objects.count()
    records_lost, entries_lost = _work(WORK)
    attacked_at = timezone.now()
    modified, deleted, attacked = _attack()
    measured = {"attacked_at": attacked_at.isoformat(), "modified": modified,
                "deleted": deleted, "records_lost": records_lost,
                "entries_lost": entries_lost,
                "comments_before": comments_before}
    measured.update(_detect(attacked_at, attacked))
    measured.update(_recover(backup, manifest))
    return measured
