"""Complaints, declared for the record kit: everything else is served by core."""

from __future__ import annotations

import django_filters

from cyberqms.platform.kit.record_filters import RecordFilterSet, YesNoFilter
from cyberqms.platform.kit.records import Column, RecordKind

from .enums import Category, ComplaintState, Severity
from .models import Complaint
from .workflow import COMPLAINT_WORKFLOW

S = ComplaintState

_INTAKE = ("title", "description", "owner", "event_at", "late_entry_reason", "due_date",
           "complainant", "complainant_contact", "channel", "product_reference")
_ASSESSMENT = ("category", "severity", "reportable", "reportable_reason", "cyber_related")
_INVESTIGATION = ("investigation_summary", "root_cause", "response")


class ComplaintFilter(RecordFilterSet):
    search_fields = ("product_reference", "complainant_contact")
    category = django_filters.ChoiceFilter(choices=Category.choices, empty_label="Any")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="Any")
    reportable = YesNoFilter()
    cyber_related = YesNoFilter(label="Cyber-related")
    sort_fields = (*RecordFilterSet.sort_fields, ("severity", "severity"))

    class Meta:
        model = Complaint
        fields: list[str] = []


COMPLAINTS = RecordKind(
    slug="complaints", model=Complaint, workflow=COMPLAINT_WORKFLOW, prefix="CMP",
    label="Complaint", action_prefix="complaints",
    closed_states=(S.CLOSED, S.CANCELLED),
    summary="Reports that a released product may fall short: intake, QA assessment "
            "(reportability), investigation, response and e-signed closure.",
    nav_section="Quality", nav_icon="inbox", nav_order=40,
    filterset=ComplaintFilter,
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("category", "Category"), Column("severity", "Severity", "severity"),
             Column("state", "State", "state"), Column("site", "Site"),
             Column("owner", "Owner"), Column("due_date", "Due", "due")),
    create_fields=_INTAKE,
    editable={
        S.DRAFT: frozenset({*_INTAKE, *_ASSESSMENT}),
        S.OPEN: frozenset({"owner", "product_reference", *_ASSESSMENT}),
        S.INVESTIGATION: frozenset({"owner", *_ASSESSMENT, *_INVESTIGATION}),
        S.QA_REVIEW: frozenset({"reportable", "reportable_reason", "qa_comments"}),
    },
    labels={"event_at": "Received", "late_entry_reason": "Reason for late entry"},
    restricted={"qa_comments": "review", "reportable": "review",
                "reportable_reason": "review"},
    sections=(
        ("Intake", ("complainant", "complainant_contact", "channel", "event_at",
                    "product_reference", "description")),
        ("Assessment", ("category", "severity", "reportable", "reportable_reason",
                        "cyber_related")),
        ("Investigation and response", ("investigation_summary", "root_cause", "response",
                                        "qa_comments")),
    ),
)
