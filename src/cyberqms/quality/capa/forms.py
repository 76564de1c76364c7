"""HTML input of the CAPA pages; the services hold every rule."""

from __future__ import annotations

from typing import Any

from django import forms

from cyberqms.platform.accounts.models import User

from .enums import ActionKind, EffectivenessResult


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
