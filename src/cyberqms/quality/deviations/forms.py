"""The deviation's own form: spawning a CAPA (the record forms are the kit's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from cyberqms.platform.core.access import people_able
from cyberqms.platform.kit.family_pages import DateInput


class SpawnCapaForm(forms.Form):
    title = forms.CharField(max_length=200, label="CAPA title")
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        get_user_model()._default_manager.none(), label="CAPA owner")
    due_date = forms.DateField(required=False, widget=DateInput())
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  max_length=10000)

    def __init__(self, *args: Any, deviation: Any, **kwargs: Any) -> None:
        """`deviation`: the CAPA's site is the deviation's; its owner can work on CAPAs
        there."""
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = people_able("capa.work", [deviation.site_id])
