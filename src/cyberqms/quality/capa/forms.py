"""HTML input of the CAPA pages; the services hold every rule."""

from __future__ import annotations

from typing import Any

from django import forms

from cyberqms.platform.accounts.models import User
from cyberqms.platform.core.access import people_able

from .enums import ActionKind, EffectivenessResult


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ActionForm(forms.Form):
    kind = forms.ChoiceField(choices=ActionKind.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(User.objects.none())
    due_date = forms.DateField(widget=DateInput())
    document_number = forms.CharField(
        label="Revises document", required=False, max_length=24,
        widget=forms.TextInput(attrs={"placeholder": "SOP-QA-0007", "size": 12}),
        help_text="The controlled document this action revises (SOP-QA-0007): the action is "
                  "done once its new version is in force.")

    def __init__(self, *args: Any, capa: Any, **kwargs: Any) -> None:
        """`capa`: the CAPA the action is for; its owner is someone who can work on CAPAs
        at that site."""
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = people_able("capa.work", [capa.site_id])


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
