"""Template filters that put an alert in words (see `monitoring.describe`)."""

from __future__ import annotations

from django import template

from cyberqms.security.monitoring.describe import grouped_on

register = template.Library()


@register.filter
def grouped_on_words(group_key: str) -> str:
    """"Account qc_analyst · Source address 10.20.0.7" for an alert's group key."""
    return " · ".join(f"{label} {value}" for label, value in grouped_on(group_key))
