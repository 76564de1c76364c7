from __future__ import annotations

from typing import Any

from django import forms

from .enums import NotificationKind


class InboxFilterForm(forms.Form):
    # "all": every notification whose work is not done; "resolved": those that are.
    show = forms.ChoiceField(
        choices=[("all", "Current"), ("unread", "Unread"), ("resolved", "Resolved")],
        required=False, label="Show",
    )
    kind = forms.ChoiceField(
        choices=[("", "Any kind"), *NotificationKind.choices], required=False, label="Kind"
    )

    def filters(self) -> dict[str, Any]:
        show = self.cleaned_data.get("show")
        return {
            "unread_only": show == "unread",
            "resolved": show == "resolved",
            "kind": self.cleaned_data.get("kind") or "",
        }


class EmailChoiceForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        choices=NotificationKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple, label="Also send by e-mail",
    )
