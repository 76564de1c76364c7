"""The form renderer's shortcuts print the same bytes as Django's widget templates, for every
widget kind they serve, with escaping, booleans, groups, selections and errors; and a
template whose text is not the one a shortcut was written from is rendered by Django."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.functional import lazy
from django.utils.safestring import mark_safe

from cyberqms.platform.core.form_renderer import SOURCES, FormRenderer

STOCK = DjangoTemplates()
FAST = FormRenderer()


class Everything(forms.Form):
    text = forms.CharField(label='Name <b>"x"</b>', max_length=20, help_text="help")
    number = forms.IntegerField(label="Count", min_value=0, required=False)
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    moment = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), required=False)
    time = forms.TimeField(required=False)
    search = forms.CharField(widget=forms.TextInput(attrs={"type": "search"}), required=False)
    agree = forms.BooleanField(required=False)
    choice = forms.ChoiceField(choices=[("", "Any"), ("a", "A & B"), ("b", "<B>"), (3, "three")],
                               required=False)
    grouped = forms.ChoiceField(choices=[("Fruit", [("apple", "Apple"), ("pear", "Pear")]),
                                         ("x", "Other")], required=False)
    lazy_labels = forms.ChoiceField(
        choices=[("l", lazy(lambda: "Lazy <label>", str)())], required=False)
    safe_label = forms.ChoiceField(choices=[("s", mark_safe("<em>safe</em>"))], required=False)
    number_label = forms.ChoiceField(choices=[(1, 1), (2, 2.5)], required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "disabled": True}),
                           required=False)
    attrs = forms.CharField(widget=forms.TextInput(attrs={
        "data-x": 'a"b<c>', "required": True, "readonly": False, "maxlength": 0}),
        required=False)
    upload = forms.FileField(required=False)


def _fields(data: dict[str, Any] | None, **options: Any) -> list[str]:
    """Every field's label, widget and errors, each rendered through its renderer."""
    form = Everything(data, **options)
    if data is not None:
        form.is_valid()
    return [part for field in form for part in (
        str(field.label_tag()), str(field), str(field.errors),
        str(field.label_tag(tag="legend")), str(field.label_tag(attrs={"class": "c"})))]


VALUES = {
    "text": '  <script>"hi" & bye</script>  ', "number": "12", "email": "a@b.example",
    "url": "https://x.example/?a=1&b=2", "password": "secret", "hidden": "h&<",
    "day": "2026-12-07", "moment": "2026-12-07T10:00", "time": "10:00", "search": "find me",
    "agree": "on", "choice": "b", "grouped": "pear", "lazy_labels": "l", "safe_label": "s",
    "number_label": "2", "note": "line one\nline <two>", "attrs": "v",
}


@pytest.mark.parametrize("data", [None, {}, VALUES, {**VALUES, "number": "-1", "choice": "z",
                                                       "email": "not an address"}],
                         ids=["unbound", "empty", "filled", "with errors"])
def test_every_widget_prints_the_same_bytes_as_the_templates(data: dict[str, Any] | None) -> None:
    assert _fields(data, renderer=FAST) == _fields(data, renderer=STOCK)


def test_a_form_with_initial_values_and_no_auto_id_prints_the_same_bytes() -> None:
    initial = {"text": "x", "day": dt.date(2026, 12, 7), "number": 5, "choice": 3}
    assert _fields(None, renderer=FAST, initial=initial, auto_id=False) == \
        _fields(None, renderer=STOCK, initial=initial, auto_id=False)


def test_the_whole_form_prints_the_same_bytes() -> None:
    assert str(Everything(VALUES, renderer=FAST)) == str(Everything(VALUES, renderer=STOCK))


def test_every_shortcut_serves_while_djangos_templates_are_the_ones_it_was_written_from(
) -> None:
    assert set(FormRenderer().shortcuts) == {
        name for name in SOURCES if name not in (
            "django/forms/widgets/attrs.html", "django/forms/attrs.html")}


def test_a_changed_template_is_rendered_by_django(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SOURCES, "django/forms/widgets/attrs.html", "changed")
    renderer = FormRenderer()
    assert "django/forms/widgets/select.html" not in renderer.shortcuts
    assert "django/forms/label.html" in renderer.shortcuts
    form = Everything(VALUES, renderer=renderer)
    assert str(form["choice"]) == str(Everything(VALUES, renderer=STOCK)["choice"])


def test_text_selects_labels_and_no_errors_need_no_template(
        monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = FormRenderer()
    assert renderer.shortcuts  # read Django's templates' text before they are refused

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("rendered through a template")

    monkeypatch.setattr(DjangoTemplates, "render", refuse)
    form = Everything({"text": "a", "choice": "a", "grouped": "apple"}, renderer=renderer)
    assert form.is_valid()
    shown = [str(part) for name in ("text", "choice", "grouped", "note", "agree", "day")
             for part in (form[name].label_tag(), form[name], form[name].errors)]
    assert shown[:3] == ['<label for="id_text">Name &lt;b&gt;&quot;x&quot;&lt;/b&gt;:</label>',
                         '<input type="text" name="text" value="a" maxlength="20" required '
                         'aria-describedby="id_text_helptext" id="id_text">', ""]
