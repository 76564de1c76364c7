"""HTML input for change control; rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from cyberqms.accounts.models import Site

from .models import Change
from .services import DRAFT_FIELDS, RATING_FIELDS, REVIEW_FIELDS

RATING_CHOICES = [("", "—"), *((str(n), str(n)) for n in range(1, 6))]
TEXT_ROWS = {"description": 3, "justification": 3, "scope": 2, "product_quality_impact": 3,
             "validation_impact": 3, "regulatory_impact": 3, "cyber_assessment": 3,
             "post_implementation_review": 4}


def _widgets() -> dict[str, Any]:
    widgets: dict[str, Any] = {
        name: forms.Textarea(attrs={"rows": rows}) for name, rows in TEXT_ROWS.items()
    }
    widgets.update({name: forms.DateInput(attrs={"type": "date"})
                    for name in ("due_date", "planned_implementation_date")})
    return widgets


def _people() -> Any:
    return get_user_model()._default_manager.filter(is_active=True, kind="person").order_by(
        "full_name", "username"
    )


class ChangeFieldsForm(forms.Form):
    """The fields of a change open in its current state (`names`)."""

    def __init__(self, *args: Any, names: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(Change, fields=names, widgets=_widgets()))
        if "owner" in self.fields:
            field = self.fields["owner"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = _people()
            field.required = False
        for name in RATING_FIELDS:
            if name in self.fields:
                self.fields[name] = forms.TypedChoiceField(
                    choices=RATING_CHOICES, coerce=int, empty_value=None, required=False,
                    label=self.fields[name].label,
                )

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("reason", None)
        if "owner" in data and data["owner"] is None:
            data.pop("owner")
        return data


class ChangeCreateForm(ChangeFieldsForm):
    site: forms.ModelChoiceField[Site] = forms.ModelChoiceField(
        queryset=Site.objects.none(), empty_label=None
    )

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, names=DRAFT_FIELDS, **kwargs)
        site = self.fields["site"]
        assert isinstance(site, forms.ModelChoiceField)
        site.queryset = sites
        self.order_fields(["title", "site", "change_type", "owner"])

    def changes(self) -> dict[str, Any]:
        data = super().changes()
        data.pop("site", None)
        return data


class ChangeEditForm(ChangeFieldsForm):
    reason = forms.CharField(
        required=False, max_length=1000,
        help_text="Required once the change has left draft.",
    )


class PirForm(ChangeFieldsForm):
    reason = forms.CharField(max_length=1000, initial="Post-implementation review")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, names=REVIEW_FIELDS, **kwargs)


class TaskForm(forms.Form):
    description = forms.CharField(max_length=2000)
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=_people().none())
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = _people()
