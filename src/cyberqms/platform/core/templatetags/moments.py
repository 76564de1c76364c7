"""``{% moment value %}``: a date and time as the reader reads it (core.moments).

``{% moment value empty="never" %}`` says what to show when there is no value (``—``);
``{{ value|duration_words }}`` a duration in words."""

from typing import Any

from django import template

from cyberqms.platform.core.moments import duration_text, moment

register = template.Library()
register.simple_tag(moment, name="moment")


@register.filter(name="duration_words")
def duration_words(value: Any) -> str:
    """A duration as a person reads it ("4.6 s", "2 h 30 min"); "—" for none."""
    return duration_text(value) if value is not None else "—"
