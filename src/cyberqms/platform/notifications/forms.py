from __future__ import annotations

from typing import Any

from django import forms

from .enums import NotificationKind


class InboxFilterForm(forms.Form):
    show = forms.ChoiceField(
        choices=[("all", "All"), ("unread", "Unread")], required=False, label="Show"
    )
    kind = forms.ChoiceField(
        choices=[("", "Any kind"), *NotificationKind.choices], required=False, label="Kind"
    )

    def filters(self) -> dict[str, Any]:
        return {
            "unread_only": self.cleaned_data.get("show") == "unread",
            "kind": self.cleaned_data.get("kind") or "",
        }
