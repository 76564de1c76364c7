"""Access findings, declared for the record kit: their own parts are the kind, the
severity, the person and right concerned, and the evidence cyberqms kept when it found
them (CYB-07). IT security works them, QA may accept one; both read them with auditors and
administrators, who correct accounts."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from cyberqms.platform.kit.record_filters import RecordFilterSet
from cyberqms.platform.kit.records import Column, FormGroup, RecordKind

from .enums import FindingKind, FindingSeverity, FindingState
from .models import AccessFinding
from .workflow import FINDING_WORKFLOW

S = FindingState
_WORKERS = ("it_security", "qa_manager")
GRANTS: dict[str, tuple[str, ...]] = {
    "view": (*_WORKERS, "qa_reviewer", "auditor", "administrator"),
    "comment": _WORKERS, "create": _WORKERS, "edit": _WORKERS, "work": _WORKERS,
    "delete": ("it_security",), "approve": _WORKERS, "extension.approve": ("qa_manager",),
}
_REPORTED = ("title", "description", "kind", "severity", "subject", "owner", "due_date")


class FindingFilter(RecordFilterSet):
    search_fields = ("resolution", "fingerprint")
    kind = django_filters.ChoiceFilter(choices=FindingKind.choices, empty_label="Any",
                                       label="Finding")
    severity = django_filters.ChoiceFilter(choices=FindingSeverity.choices,
                                           empty_label="Any")

    class Meta:
        model = AccessFinding
        fields: list[str] = []


def a_person(finding: AccessFinding, actor: Any, changed: tuple[str, ...]) -> None:
    subject = finding.subject if finding.subject_id else None
    if "subject" in changed and subject is not None and subject.kind != "person" \
            and finding.kind not in (FindingKind.TOKEN_UNUSED, FindingKind.TOKEN_ROTATION):
        raise ValidationError({"subject": [f"{subject.username} is not a named person."]})


def severity_badges(finding: AccessFinding) -> list[tuple[str, str, str]]:
    if finding.severity == FindingSeverity.HIGH:
        return [("bad", "high", "High severity: it raised a monitoring alert.")]
    return []


def page_context(request: HttpRequest, finding: AccessFinding) -> dict[str, Any]:
    evidence = finding.evidence or {}
    return {"finding": finding, "facts": evidence.get("facts", []),
            "evidence_columns": evidence.get("columns", []),
            "evidence_rows": evidence.get("rows", [])}


def evidence_sections(finding: AccessFinding) -> list[Any]:
    from cyberqms.platform.kit.record_export import Section

    evidence = finding.evidence or {}
    sections = [Section("Evidence", ["Fact", "Value"],
                        [[str(label), str(value)] for label, value in evidence.get("facts", [])]
                        or [["—", "Reported by a person: see the description."]])]
    if evidence.get("rows"):
        sections.append(Section("Rights and their use", list(evidence.get("columns", [])),
                                [[str(c) for c in row] for row in evidence["rows"]]))
    return sections


FINDINGS = RecordKind(
    slug="access-findings", model=AccessFinding, workflow=FINDING_WORKFLOW, prefix="AF",
    label="Access finding", action_prefix="access_findings", initial_state=S.OPEN,
    closed_states=(S.RESOLVED, S.ACCEPTED), deletable_states=(S.OPEN,),
    summary="Drift between the access people hold and how they use it: unused rights, "
            "dormant accounts, segregation-of-duties conflicts, grants without approval, "
            "privileged accounts without MFA, leavers and tokens.",
    nav_section="Security", nav_icon="key", nav_order=30,
    filterset=FindingFilter, row_badges=severity_badges, checks=(a_person,),
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("kind", "Finding"), Column("severity", "Severity"),
             Column("subject", "Person"), Column("state", "State", "state"),
             Column("site", "Site"), Column("owner", "Owner"),
             Column("created_at", "Found", "created")),
    create_fields=_REPORTED,
    editable={S.OPEN: frozenset({"title", "description", "severity", "subject", "owner",
                                 "due_date", "resolution"})},
    labels={"subject": "Person", "kind": "Finding"},
    sections=(("Finding", ("kind", "severity", "subject", "resolution")),),
    form_groups=(FormGroup("What was found", ("kind", "severity", "subject")),),
    detail_template="findings/finding_detail.html", detail_context=page_context,
    api_list_fields=("kind", "severity", "subject", "closed_at"),
    grants="", own_grants=GRANTS, unaudited=("last_seen_at",),
)
