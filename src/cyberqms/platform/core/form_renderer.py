"""Form fields rendered without a template per widget, option and label.

Django renders each widget through its template: a select runs an include per option and
one more per option's attributes, and a label, an input and an empty error list are a
template each. A list page's filter form cost about 5 ms of template work a request. The
few templates that nearly every field uses (inputs, selects and their options, textareas,
labels, empty error lists) are written out here, producing the same bytes; anything else
(and any value the shortcut does not know how to print) goes to Django's templates as
before. The shortcut serves a template only while Django's file still holds the text it
was written from (`SOURCES`), checked once per process, so a Django upgrade that changes
a template falls back rather than drift. `core/tests/test_form_renderer.py` compares both
ways of rendering over every widget kind the shortcut serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise, cached_property
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData

ATTRS = (
    "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
    "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}"
    "{% endfor %}"
)
INPUT = '{% include "django/forms/widgets/input.html" %}\n'
# The input widgets whose template is only INPUT.
INPUTS = tuple(f"django/forms/widgets/{name}.html" for name in (
    "checkbox", "color", "date", "datetime", "email", "file", "hidden", "number", "password",
    "search", "tel", "text", "time", "url"))
SELECT_OPTION = "django/forms/widgets/select_option.html"
SOURCES: dict[str, str] = {
    "django/forms/widgets/attrs.html": ATTRS,
    "django/forms/attrs.html": ATTRS.replace("widget.attrs.items", "attrs.items"),
    "django/forms/widgets/input.html": (
        '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %}'
        " value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
        '{% include "django/forms/widgets/attrs.html" %}>\n'
    ),
    **dict.fromkeys(INPUTS, INPUT),
    "django/forms/widgets/select.html": (
        '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
        "{% for group_name, group_choices, group_index in widget.optgroups %}"
        '{% if group_name %}\n  <optgroup label="{{ group_name }}">{% endif %}'
        "{% for option in group_choices %}\n  {% include option.template_name with "
        "widget=option %}{% endfor %}{% if group_name %}\n  </optgroup>{% endif %}"
        "{% endfor %}\n</select>\n"
    ),
    SELECT_OPTION: (
        "<option value=\"{{ widget.value|stringformat:'s' }}\""
        '{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n'
    ),
    "django/forms/widgets/textarea.html": (
        '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n'
        "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n"
    ),
    "django/forms/label.html": (
        "{% if use_tag %}<{{ tag }}{% include 'django/forms/attrs.html' %}>{{ label }}"
        "</{{ tag }}>{% else %}{{ label }}{% endif %}\n"
    ),
    "django/forms/errors/list/default.html": (
        '{% include "django/forms/errors/list/ul.html" %}'
    ),
    "django/forms/errors/list/ul.html": (
        '{% if errors %}<ul class="{{ error_class }}"{% if errors.field_id %} '
        'id="{{ errors.field_id }}_error"{% endif %}>{% for error in errors %}<li>{{ error }}'
        "</li>{% endfor %}</ul>{% endif %}"
    ),
}


class _Unprintable(Exception):
    """A value the shortcut does not print as the template would: use the template."""


def _text(value: Any) -> str:
    """`{{ value }}` for text: escaped unless marked safe. Numbers, dates and other values
    go through the template, which localizes them."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        raise _Unprintable
    return str(conditional_escape(value))


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: "%s", escaped unless the value was marked safe."""
    if isinstance(value, tuple):
        value = str(value)
    try:
        out = "%s" % value  # noqa: UP031  (the filter's own formatting, kept exactly)
    except (ValueError, TypeError):
        return ""
    return out if isinstance(value, SafeData) else str(escape(out))


def _attrs(attrs: Mapping[str, Any]) -> str:
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        for name, value in attrs.items() if value is not False
    )


def _input(context: Mapping[str, Any]) -> str:
    w = context["widget"]
    # The template's `!= None`, which a value's own __ne__ answers.
    value = f' value="{_formatted(w["value"])}"' if w["value"] != None else ""  # noqa: E711
    return (f'<input type="{_text(w["type"])}" name="{_text(w["name"])}"{value}'
            f'{_attrs(w["attrs"])}>')


def _select(context: Mapping[str, Any]) -> str:
    w = context["widget"]
    parts = [f'<select name="{_text(w["name"])}"{_attrs(w["attrs"])}>']
    for group_name, options, _index in w["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option["template_name"] != SELECT_OPTION:
                raise _Unprintable
            parts.append(f'\n  <option value="{_formatted(option["value"])}"'
                         f'{_attrs(option["attrs"])}>{_text(option["label"])}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _option(context: Mapping[str, Any]) -> str:
    w = context["widget"]
    return (f'<option value="{_formatted(w["value"])}"{_attrs(w["attrs"])}>'
            f'{_text(w["label"])}</option>')


def _textarea(context: Mapping[str, Any]) -> str:
    w = context["widget"]
    text = _text(w["value"]) if w["value"] else ""
    return f'<textarea name="{_text(w["name"])}"{_attrs(w["attrs"])}>\n{text}</textarea>'


def _label(context: Mapping[str, Any]) -> str:
    if not context["use_tag"]:
        return _text(context["label"]).strip()
    tag = _text(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{_text(context['label'])}</{tag}>"


def _errors(context: Mapping[str, Any]) -> str:
    if context["errors"]:
        raise _Unprintable  # the page shows errors rarely; the template prints them
    return ""


_SHORTCUTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "django/forms/widgets/input.html": _input,
    **dict.fromkeys(INPUTS, _input),
    "django/forms/widgets/select.html": _select,
    SELECT_OPTION: _option,
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/label.html": _label,
    "django/forms/errors/list/default.html": _errors,
    "django/forms/errors/list/ul.html": _errors,
}

# What each shortcut's output depends on: the template itself and those it includes.
_READS: dict[str, tuple[str, ...]] = {
    "django/forms/widgets/input.html": ("django/forms/widgets/attrs.html",),
    **dict.fromkeys(INPUTS, ("django/forms/widgets/input.html",
                             "django/forms/widgets/attrs.html")),
    "django/forms/widgets/select.html": ("django/forms/widgets/attrs.html", SELECT_OPTION),
    SELECT_OPTION: ("django/forms/widgets/attrs.html",),
    "django/forms/widgets/textarea.html": ("django/forms/widgets/attrs.html",),
    "django/forms/label.html": ("django/forms/attrs.html",),
    "django/forms/errors/list/default.html": ("django/forms/errors/list/ul.html",),
}


class FormRenderer(DjangoTemplates):
    """Django's default form renderer, with the common widget templates as Python
    (settings.FORM_RENDERER)."""

    @cached_property
    def shortcuts(self) -> dict[str, Callable[[Mapping[str, Any]], str]]:
        """The shortcuts whose templates, and those they include, are still Django's
        text as written down in `SOURCES`."""
        unchanged = {name for name, text in SOURCES.items() if self._source(name) == text}
        return {name: shortcut for name, shortcut in _SHORTCUTS.items()
                if {name, *_READS.get(name, ())} <= unchanged}

    def _source(self, name: str) -> str | None:
        try:
            origin = self.get_template(name).template.origin
            return str(origin.loader.get_contents(origin))
        except Exception:  # any failure to read it: the template serves instead
            return None

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        shortcut = self.shortcuts.get(template_name)
        if shortcut is not None:
            try:
                return shortcut(context)
            except _Unprintable:
                pass
        return str(super().render(template_name, context, request))
