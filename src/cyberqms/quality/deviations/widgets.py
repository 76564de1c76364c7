"""The security-reference picker: a text input whose suggestions are the security alerts
and incidents the person may see at the deviation's site, fetched as they type (htmx
fills a `<datalist>`; no script of our own, so the strict CSP holds)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse


class SecurityReferenceInput(forms.TextInput):
    template_name = "deviations/widgets/security_reference.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        options = f"{widget['attrs'].get('id') or name}-options"
        widget["options_id"] = options
        widget["attrs"].update({
            "list": options, "autocomplete": "off", "spellcheck": "false",
            "hx-get": reverse("deviations:security_references"),
            # The site chosen on the form (the record's own on its page) places the search.
            "hx-include": "[name='site']",
            "hx-trigger": "focus once, input changed delay:300ms",
            "hx-target": f"#{options}",
            "hx-sync": "this:replace",
        })
        return context
