"""How the interface names things: field labels and lists written as people write them.

Messages are generated from the declared labels (a field's verbose name, a transition's
label), never from attribute or action names; these helpers do the last step."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.text import capfirst


def field_label(model: Any, name: str) -> str:
    """A field's label as a heading shows it: "GxP impact", "Review outcome".

    `capfirst`, not `str.capitalize`, so that "GxP" and "CAPA" keep their capitals; a name
    that is not a model field (a form's "__all__", an input only the API knows) falls back
    to the name in words."""
    try:
        verbose = model._meta.get_field(name).verbose_name
    except (FieldDoesNotExist, AttributeError):
        verbose = name.replace("_", " ")
    return str(capfirst(str(verbose)))


def listing(items: Iterable[str], conjunction: str = "and") -> str:
    """"a", "a and b", "a, b and c"."""
    words: Sequence[str] = [str(i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def missing(pairs: Iterable[tuple[str, Any]]) -> list[str]:
    """The labels of the (label, value) pairs whose value is empty (blank text counts)."""
    return [label for label, value in pairs
            if not (value.strip() if isinstance(value, str) else value)]




def problem_text(exc: Exception, model: Any = None) -> str:
    """A refusal as one sentence for a page message: a validation error's messages, each
    after its field's label ("Review outcome: …"), or the text the exception carries."""
    if isinstance(exc, ValidationError):
        parts: list[str] = []
        for name, errors in exc.message_dict.items():
            prefix = "" if name == "__all__" else f"{field_label(model, name)}: "
            parts.extend(f"{prefix}{e}" for e in errors)
        return " ".join(parts)
    return str(getattr(exc, "text", "") or getattr(exc, "message", "") or exc)


__all__ = ["field_label", "listing", "missing", "problem_text"]

