"""HTML input of a change's implementation tasks; rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model


def _people() -> Any:
    return get_user_model()._default_manager.filter(is_active=True, kind="person").order_by(
        "full_name", "username"
    )


class TaskForm(forms.Form):
    description = forms.CharField(max_length=2000)
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=_people().none())
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = _people()
