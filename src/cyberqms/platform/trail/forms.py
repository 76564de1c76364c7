"""HTML input of the audit-trail pages: the viewer's filters, flag resolution, reviews."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator

from cyberqms.platform.trail.models import ReviewOutcome, ReviewScope
from cyberqms.platform.trail.registry import all_audited

TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"



# Audit entries exist from installation on; the bounds keep date arithmetic in range.
DATE_BOUNDS = [
    MinValueValidator(datetime.date(2000, 1, 1), "Enter a date in 2000 or later."),
    MaxValueValidator(datetime.date(9998, 12, 31), "Enter a date before 9999."),
]

class DateInput(forms.DateInput):
    input_type = "date"


class PageForm(forms.Form):
    """Labels without a trailing colon, as on every other page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class EntryFilterForm(PageForm):
    """The auditor's search; every field optional, all of them combined with AND."""

    q = forms.CharField(
        max_length=100, required=False, label="Search",
        widget=forms.TextInput(attrs={"type": "search",
                                      "placeholder": "Record number or title, person, action"}),
    )
    object_type = forms.RegexField(
        regex=TYPE_PATTERN, max_length=64, required=False, label="Record type",
        error_messages={"invalid": "A record type looks like accounts.user."},
        widget=forms.TextInput(attrs={"list": "record-types", "placeholder": "Any type"}),
    )
    object_id = forms.CharField(
        max_length=64, required=False, label="Record",
        widget=forms.TextInput(attrs={"placeholder": "Number (DEV-2026-0047) or ID"}),
    )
    user = forms.CharField(
        max_length=150, required=False, label="User",
        widget=forms.TextInput(attrs={"placeholder": "User ID"}),
    )
    action = forms.RegexField(
        regex=r"^[a-z0-9_.]+$", max_length=100, required=False, label="Action starts with",
        error_messages={"invalid": "Use lower-case letters, digits, dots and underscores."},
        widget=forms.TextInput(attrs={"placeholder": "accounts.user"}),
    )
    date_from = forms.DateField(required=False, label="From", widget=DateInput,
                                validators=DATE_BOUNDS)
    date_to = forms.DateField(required=False, label="To", widget=DateInput,
                              validators=DATE_BOUNDS)
    sort = forms.ChoiceField(
        choices=[("-seq", "Newest first"), ("seq", "Oldest first")], required=False
    )

    def clean_user(self) -> str:
        value: str = self.cleaned_data.get("user", "").strip()
        self.actor_id: int | None = None
        if not value:
            return value
        found = get_user_model().objects.filter(username__iexact=value).values_list(
            "pk", flat=True
        ).first()
        if found is None and value.isascii() and value.isdecimal() and len(value) < 19:
            found = int(value)
        if found is None:
            raise forms.ValidationError("No user has this user ID.")
        self.actor_id = int(found)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The range ends before it starts.")
        return data

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `queries.entries_filtered` (call after `is_valid`)."""
        data = self.cleaned_data
        return {
            "object_type": data.get("object_type", ""),
            "object_id": data.get("object_id", "").strip(),
            "actor_id": getattr(self, "actor_id", None),
            "action": data.get("action", ""),
            "q": data.get("q", "").strip(),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "sort": data.get("sort") or "-seq",
        }


class ResolveForm(PageForm):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "Investigation and outcome (recorded)"}),
    )


def record_type_choices() -> list[tuple[str, str]]:
    return [("", "Choose a record type")] + [(a.type_name, a.type_name) for a in all_audited()]


class ReviewForm(PageForm):
    """What the reviewer declares; scope rules and independence are the service's."""

    scope = forms.ChoiceField(
        choices=ReviewScope.choices, initial=ReviewScope.RECORD, widget=forms.RadioSelect
    )
    object_type = forms.ChoiceField(choices=(), required=False, label="Record type")
    object_id = forms.CharField(max_length=64, required=False, label="Record ID")
    date_from = forms.DateField(required=False, label="From", widget=DateInput,
                                validators=DATE_BOUNDS)
    date_to = forms.DateField(required=False, label="To", widget=DateInput,
                              validators=DATE_BOUNDS)
    outcome = forms.ChoiceField(choices=ReviewOutcome.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required when discrepancies were found: describe them.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        object_type = self.fields["object_type"]
        assert isinstance(object_type, forms.ChoiceField)
        object_type.choices = record_type_choices()
