"""The deviation's own form: spawning a CAPA (the record forms are the kit's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from cyberqms.platform.kit.family_pages import DateInput


def _people() -> Any:
    return get_user_model()._default_manager.filter(is_active=True, kind="person").order_by(
        "username"
    )


class SpawnCapaForm(forms.Form):
    title = forms.CharField(max_length=200, label="CAPA title")
    owner = forms.ModelChoiceField(_people(), label="CAPA owner")
    due_date = forms.DateField(required=False, widget=DateInput())
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  max_length=10000)
