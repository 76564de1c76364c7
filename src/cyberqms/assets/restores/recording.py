"""cyberqms's own restore tests, recorded (`restore_tested`, platform/backups/verify.py):
a restore-test record in IT review with each step's evidence, for cyberqms's entry in the
system inventory; a failed one also raises a critical security event, so that an alert
reaches IT security and QA (rule `backup_restore_test_failed`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cyberqms.platform.accounts.models import Site
from cyberqms.platform.core.access import people_able
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.kit.records import next_number
from cyberqms.platform.trail.record import audit_record

from .enums import Outcome, RestoreTestState
from .models import RestoreTest
from .workflow import RESTORE_TEST_WORKFLOW, TYPE

logger = logging.getLogger(__name__)
EVENT = "backup.restore_test.failed"
REVIEW_DAYS = 5


def self_system() -> Any:
    """cyberqms's own entry in the inventory: CYBERQMS_SYSTEM (its number or title), else
    the system in use whose title starts with "cyberqms"."""
    from cyberqms.assets.systems.models import System

    named = str(getattr(settings, "CYBERQMS_SYSTEM", "") or "")
    found = System.objects.filter(is_deleted=False).exclude(state="retired")
    if named:
        return found.filter(Q(number=named) | Q(title=named)).order_by("pk").first()
    return found.filter(title__istartswith="cyberqms").order_by("pk").first()


def _owner(system: Any, site_id: int) -> Any:
    able = list(people_able("restore_tests.work", [site_id]))
    contact = getattr(system, "security_contact", None) if system is not None else None
    if contact is not None and contact in able:
        return contact
    return able[0] if able else None


def record_restore_test(sender: Any, *, result: Any, actor: Any = None,
                        **kwargs: Any) -> RestoreTest | None:
    """The restore test of `result` (platform.backups.verify.VerifyResult) as a record."""
    system = self_system()
    site_id = system.site_id if system is not None else Site.objects.filter(
        is_active=True).order_by("code").values_list("pk", flat=True).first()
    owner = actor if actor is not None and getattr(actor, "pk", None) else None
    owner = owner or (_owner(system, site_id) if site_id is not None else None)
    passed = result.passed
    failure = result.failure
    if site_id is None or owner is None:
        logger.warning("restore test of %s not recorded: nobody holds restore_tests.work",
                       result.file.name)
        if not passed:  # the alert goes out all the same
            emit_security_event(
                EVENT, severity="critical",
                message=f"Restore test of {result.file.name} failed (not recorded: nobody "
                        f"may record it): {(failure or {}).get('detail', '')}"[:500],
                data={"restore_test": "", "backup": result.file.name,
                      "step": (failure or {}).get("step", "")})
        return None
    seconds = result.time_to_restore
    backup = result.backup
    manifest = result.manifest or {}
    test = RestoreTest(
        title=f"Restore test of {result.file.name}"[:200], system=system,
        backup_name=result.file.name[:200], backup=backup,
        outcome=Outcome.PASSED if passed else Outcome.FAILED,
        time_to_restore=dt.timedelta(seconds=seconds) if seconds is not None else None,
        event_at=result.started_at, site_id=site_id, owner=owner, originator=owner,
        state=RestoreTestState.DRAFT,
        due_date=timezone.localdate() + dt.timedelta(days=REVIEW_DAYS),
        description=("Restored by cyberqms into an isolated copy and checked: the file's "
                     "authentication, the rows, the migration to the running version, the "
                     "audit trail against the manifest's signed checkpoint, and a PDF of "
                     "every kind of record.") if passed else
                    (f"The restore test failed at \"{failure['label']}\": "
                     f"{failure['detail']}" if failure else "The restore test failed.")[:10000],
        evidence={"steps": result.steps, "seconds": result.seconds,
                  "pdfs": next((s.get("pdfs", []) for s in result.steps
                                if s["step"] == "pdf"), []),
                  "manifest": {
                      "file": result.file.name,
                      "created_at": manifest.get("created_at", ""),
                      "cyberqms": manifest.get("cyberqms", ""),
                      "engine": manifest.get("engine", ""),
                      "checkpoint_size": (manifest.get("checkpoint") or {}).get("size"),
                      "sha256": backup.sha256 if backup is not None else ""}},
    )
    with transaction.atomic():
        test.number = next_number("RST")
        test.save()
        audit_record(f"{TYPE}.create", test, actor=None, created=True,
                     reason="Restore test run by cyberqms")
        RESTORE_TEST_WORKFLOW.run(test, "recorded", actor=None)
        if not passed:
            emit_security_event(
                EVENT, severity="critical",
                message=f"Restore test {test.number} failed: "
                        f"{(failure or {}).get('detail', '')}"[:500],
                data={"restore_test": test.number, "backup": result.file.name,
                      "step": (failure or {}).get("step", ""),
                      "site": test.site.code})
    return test
