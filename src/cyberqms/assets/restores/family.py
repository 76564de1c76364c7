"""Restore tests, declared for the record kit (A11-13, A11-24): their own parts are the
system, the backup, the result, the time to restore against the system's RTO, and, for
cyberqms's own tests, each step's evidence. IT security and system owners record them;
IT security or the QA manager reviews and signs."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from cyberqms.platform.core.access import can
from cyberqms.platform.kit.record_filters import RecordFilterSet
from cyberqms.platform.kit.records import Column, FormGroup, RecordKind

from .enums import Outcome, RestoreTestState
from .evidence import shown
from .models import RestoreTest
from .workflow import RESTORE_TEST_WORKFLOW

S = RestoreTestState
_RECORDERS = ("it_security", "system_owner")
GRANTS: dict[str, tuple[str, ...]] = {
    "view": (*_RECORDERS, "qa_manager", "qa_reviewer", "auditor", "administrator"),
    "comment": (*_RECORDERS, "qa_manager"), "create": _RECORDERS, "edit": _RECORDERS,
    "work": _RECORDERS, "delete": _RECORDERS, "approve": ("it_security", "qa_manager"),
    "extension.approve": ("qa_manager",),
}
_MEASURED = ("outcome", "time_to_restore", "follow_up")


class RestoreTestFilter(RecordFilterSet):
    search_fields = ("backup_name", "follow_up")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, empty_label="Any",
                                          label="Result")

    class Meta:
        model = RestoreTest
        fields: list[str] = []


def same_site(test: RestoreTest, actor: Any, changed: tuple[str, ...]) -> None:
    """A restore test is of a system of its own site."""
    system = test.system if test.system_id else None
    if "system" in changed and system is not None and system.site_id != test.site_id:
        raise ValidationError({"system": [
            f"{system.number} is at {system.site.code}: record its test at its site."]})


def outcome_badges(test: RestoreTest) -> list[tuple[str, str, str]]:
    if test.outcome == Outcome.FAILED:
        return [("bad", "failed", "The restore failed: it raised a critical alert.")]
    if test.rto_met is False:
        return [("warn", "over RTO", "The restore took longer than the system's RTO.")]
    return []


def page_context(request: HttpRequest, test: RestoreTest) -> dict[str, Any]:
    system = test.system if test.system_id else None
    return {"test": test, "evidence": shown(test),
            "gxp_system": system if system and can(request.user, "systems.view", system)
            else None}


RESTORE_TESTS = RecordKind(
    slug="restore-tests", model=RestoreTest, workflow=RESTORE_TEST_WORKFLOW, prefix="RST",
    label="Restore test", action_prefix="restore_tests",
    closed_states=(S.REVIEWED, S.CANCELLED),
    summary="Backups restored and checked (Annex 11 §7.2): cyberqms's own, tested in an "
            "isolated copy with its audit trail proved, and those of every computerized "
            "system, with the time to restore against the system's RTO.",
    nav_section="Systems and risk", nav_icon="refresh", nav_order=18,
    filterset=RestoreTestFilter, checks=(same_site,), row_badges=outcome_badges,
    detail_template="restores/restoretest_detail.html", detail_context=page_context,
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("system", "System"), Column("outcome", "Result"),
             Column("time_to_restore", "Time to restore"), Column("state", "State", "state"),
             Column("site", "Site"), Column("owner", "Owner"),
             Column("event_at", "Performed", "created")),
    create_fields=("system", "title", "backup_name", "event_at", "performed_by",
                   *_MEASURED, "description", "owner", "due_date"),
    editable={S.DRAFT: frozenset({"title", "backup_name", "event_at", "performed_by",
                                  "description", "owner", "due_date", *_MEASURED}),
              S.REVIEW: frozenset({"follow_up"})},
    labels={"event_at": "Performed at", "outcome": "Result"},
    sections=(("Restore", ("system", "backup_name", "event_at", "performed_by", "outcome",
                           "time_to_restore", "follow_up")),),
    form_groups=(FormGroup("What was restored", ("system", "title", "backup_name",
                                                "event_at", "performed_by")),
                 FormGroup("Result", _MEASURED)),
    api_list_fields=("system", "outcome", "time_to_restore", "event_at"),
    grants="", own_grants=GRANTS,
)
