"""HTML input of the CAPA pages; the services hold every rule."""

from __future__ import annotations

from typing import Any

from django import forms

from cyberqms.accounts.models import Site, User

from .enums import ActionKind, CapaSource, EffectivenessResult


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def people() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, kind="person").order_by("full_name"),
    )


class CapaCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    site = forms.ModelChoiceField(queryset=Site.objects.all(), to_field_name="code")
    owner = people()
    source = forms.ChoiceField(choices=CapaSource.choices)
    source_reference = forms.CharField(
        max_length=100, required=False,
        help_text="A record number (DEV-2026-0007) is linked; any other identifier is kept.",
    )
    problem_statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                                        max_length=10000, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000,
                                  required=False)
    due_date = forms.DateField(widget=DateInput(), required=False)
    cyber_related = forms.BooleanField(required=False, label="Cyber-security related")
    event_at = forms.DateTimeField(widget=DateTimeInput(), required=False,
                                   label="Problem found at")
    late_entry_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                                        required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = people()



class CapaEditForm(forms.Form):
    """The fields editable in the CAPA's current state, plus a reason after draft."""

    def __init__(self, *args: Any, editable: tuple[str, ...], needs_reason: bool,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        all_fields: dict[str, forms.Field] = {
            "title": forms.CharField(max_length=200),
            "owner": people(),
            "source": forms.ChoiceField(choices=CapaSource.choices),
            "source_reference": forms.CharField(max_length=100, required=False),
            "problem_statement": forms.CharField(
                widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=10000),
            "root_cause": forms.CharField(
                widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=10000),
            "description": forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10000),
            "cyber_related": forms.BooleanField(required=False, label="Cyber-security related"),
            "due_date": forms.DateField(widget=DateInput(), required=False),
            "effectiveness_criteria": forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000),
            "effectiveness_due": forms.DateField(widget=DateInput(), required=False,
                                                 label="Effectiveness check due"),
        }
        for name in editable:
            self.fields[name] = all_fields[name]
        if needs_reason:
            self.fields["reason"] = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 2}), max_length=1000,
                help_text="Required: the CAPA is past draft.",
            )


class ActionForm(forms.Form):
    kind = forms.ChoiceField(choices=ActionKind.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    owner = people()
    due_date = forms.DateField(widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = people()


class ActionCompleteForm(forms.Form):
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=10000)
    note = forms.CharField(required=False, max_length=5000)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000)


class EffectivenessForm(forms.Form):
    result = forms.ChoiceField(
        choices=[(EffectivenessResult.PASSED, "Passed"), (EffectivenessResult.FAILED, "Failed")],
        widget=forms.RadioSelect,
    )
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    password = forms.CharField(widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}), strip=False)
    otp = forms.CharField(required=False, max_length=6, label="Authenticator code")
    accept_statement = forms.BooleanField(required=False)
