"""HTML input of a change's implementation tasks; rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from cyberqms.platform.core.access import people_able


class TaskForm(forms.Form):
    description = forms.CharField(max_length=2000)
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=get_user_model()._default_manager.none())
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, change: Any, **kwargs: Any) -> None:
        """`change`: a task's owner is someone who can work on changes at its site."""
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = people_able("changes.work", [change.site_id])
