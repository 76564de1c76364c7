"""HTML input for deviations: the create form and the state-dependent edit form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model

from cyberqms.accounts.models import Department, Site

from .enums import Classification, RootCauseCategory


def _people() -> Any:
    return get_user_model()._default_manager.filter(is_active=True, kind="person").order_by(
        "username"
    )


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"


def _fields() -> dict[str, forms.Field]:
    """Every field a person may enter on a deviation, keyed by model field name."""
    hours = settings.CYBERQMS_LATE_ENTRY_HOURS
    text = forms.Textarea(attrs={"rows": 3})
    return {
        "title": forms.CharField(max_length=200),
        "description": forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                       label="What happened", max_length=10000),
        "owner": forms.ModelChoiceField(_people(), label="Owner (investigator)"),
        "event_at": forms.DateTimeField(
            required=False, widget=DateTimeLocal(), label="When it happened (or was found)",
        ),
        "late_entry_reason": forms.CharField(
            required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
            label="Reason for late entry",
            help_text=f"Needed when the event is more than {hours} hours old.",
        ),
        "due_date": forms.DateField(required=False, widget=DateInput()),
        "classification": forms.ChoiceField(
            required=False, choices=[("", "Not classified yet"), *Classification.choices]
        ),
        "department": forms.ModelChoiceField(
            Department.objects.filter(is_active=True).select_related("site"), required=False,
        ),
        "area": forms.CharField(required=False, max_length=200, label="Area / process"),
        "product_reference": forms.CharField(required=False, max_length=200,
                                             label="Product / batch"),
        "gxp_impact": forms.BooleanField(required=False, label="GxP impact"),
        "gxp_impact_text": forms.CharField(required=False, widget=text, max_length=5000,
                                           label="GxP impact assessment"),
        "data_integrity_impact": forms.BooleanField(required=False,
                                                    label="Data-integrity impact"),
        "data_integrity_impact_text": forms.CharField(
            required=False, widget=text, max_length=5000,
            label="Data-integrity impact assessment",
        ),
        "cyber_related": forms.BooleanField(required=False, label="Cyber-related"),
        "security_reference": forms.CharField(
            required=False, max_length=100, label="Security alert / incident",
            help_text="E.g. ALERT-2026-0042 or INC-2026-0003; linked when it is a record "
            "number.",
        ),
        "immediate_actions": forms.CharField(required=False, widget=text, max_length=10000),
        "investigation_summary": forms.CharField(required=False, max_length=10000,
                                                 widget=forms.Textarea(attrs={"rows": 4})),
        "root_cause_category": forms.ChoiceField(
            required=False, choices=[("", "—"), *RootCauseCategory.choices],
            label="Root-cause category",
        ),
        "root_cause": forms.CharField(required=False, widget=text, max_length=10000),
        "capa_required": forms.BooleanField(required=False, label="CAPA required"),
        "qa_comments": forms.CharField(required=False, widget=text, max_length=10000,
                                       label="QA comments"),
    }


CREATE_FIELDS = (
    "title", "description", "owner", "event_at", "late_entry_reason", "due_date",
    "classification", "department", "area", "product_reference", "gxp_impact",
    "gxp_impact_text", "data_integrity_impact", "data_integrity_impact_text",
    "cyber_related", "security_reference", "immediate_actions",
)


class DeviationCreateForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.filter(is_active=True))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        every = _fields()
        for name in CREATE_FIELDS:
            self.fields[name] = every[name]


class DeviationEditForm(forms.Form):
    """Only the fields editable now; `reason` is asked once the deviation left draft."""

    def __init__(self, *args: Any, editable: frozenset[str], needs_reason: bool,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in _fields().items():
            if name in editable:
                self.fields[name] = field
        if needs_reason:
            self.fields["reason"] = forms.CharField(
                max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                label="Reason for the change",
            )

    def changes(self, record: Any) -> dict[str, Any]:
        """The submitted values that differ from the record's."""
        out = {}
        for name, value in self.cleaned_data.items():
            if name == "reason":
                continue
            current = getattr(record, name)
            if value is None and name not in ("event_at", "due_date", "department", "owner"):
                value = ""
            if value != current:
                out[name] = value
        return out


class SpawnCapaForm(forms.Form):
    title = forms.CharField(max_length=200, label="CAPA title")
    owner = forms.ModelChoiceField(_people(), label="CAPA owner")
    due_date = forms.DateField(required=False, widget=DateInput())
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  max_length=10000)
