"""``{% after_first_steps as url %}``: where the first sign-in steps lead on to (the page
kept at sign-in, or home), for the Continue that ends them (accounts.first_sign_in)."""

from typing import Any

from django import template

from cyberqms.platform.accounts.first_sign_in import destination

register = template.Library()


@register.simple_tag(takes_context=True)
def after_first_steps(context: Any) -> str:
    return destination(context["request"])
