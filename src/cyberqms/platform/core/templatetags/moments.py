"""``{% moment value %}``: a date and time as the reader reads it (core.moments).

``{% moment value empty="never" %}`` says what to show when there is no value (``—``)."""

from django import template

from cyberqms.platform.core.moments import moment

register = template.Library()
register.simple_tag(moment, name="moment")
