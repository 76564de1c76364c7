"""The shell and the messages speak in words a person reads (issue 13, items 7 and 9):
breadcrumbs in the menu's words, labels instead of attribute names, lists written as
people write them, a skip link, forms in groups, and back to the tab a form was on."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cyberqms.platform.core.event_kinds import event_label
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.kit.words import field_label, listing, problem_text
from cyberqms.quality.changes.models import Change
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _breadcrumb(page: str) -> str:
    match = re.search(r'<nav class="env" aria-label="Breadcrumb">(.*?)</nav>', page, re.S)
    assert match is not None
    return _text(match.group(1))


@pytest.mark.parametrize(("items", "written"), [
    ([], ""), (["a"], "a"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c"),
])
def test_a_list_is_written_with_and_before_the_last_item(items: list[str], written: str) -> None:
    assert listing(items) == written


def test_a_field_keeps_the_capitals_of_its_label() -> None:
    assert field_label(Deviation, "gxp_impact") == "GxP impact"


def test_a_refusal_names_the_field_by_its_label_not_its_attribute() -> None:
    refusal = ValidationError({"pir_outcome": ["Choose an outcome."]})
    assert problem_text(refusal, Change) == "Review outcome: Choose an outcome."


def test_a_security_event_kind_reads_as_words() -> None:
    assert (event_label("auth.login.failure"), event_label("made.up_kind")) == (
        "Failed sign-in", "Made up kind")


@pytest.mark.django_db
def test_the_breadcrumb_of_a_record_uses_the_menu_words_then_the_number(
    personas: dict[str, Any], login: Any,
) -> None:
    d = deviation_in_state(personas, "draft", site=a_site())
    page = login(personas["author"]).get(reverse("deviations:detail", args=[d.pk]))
    assert _breadcrumb(page.content.decode()) == f"Quality / Deviations {d.number}"


@pytest.mark.django_db
def test_the_breadcrumb_of_a_menu_page_is_its_section_and_entry(
    personas: dict[str, Any], login: Any,
) -> None:
    page = login(personas["author"]).get(reverse("accounts:profile")).content.decode()
    assert _breadcrumb(page) == "Me / Profile and security"
    assert '<span aria-current="page">Profile and security</span>' in page


@pytest.mark.django_db
def test_every_page_starts_with_a_link_that_skips_to_the_content(
    personas: dict[str, Any], login: Any,
) -> None:
    page = login(personas["author"]).get("/").content.decode()
    body = page[page.index("<body>"):]
    assert body.split("\n")[1] == '<a class="skip-link" href="#main">Skip to content</a>'
    assert '<main class="content" id="main" tabindex="-1">' in page


@pytest.mark.django_db
def test_home_names_security_events_in_words(personas: dict[str, Any], login: Any) -> None:
    emit_security_event("auth.login.failure", severity="medium", message="Wrong password",
                        username="someone")
    page = login(personas["qa_manager"]).get("/").content.decode()
    assert '<td title="auth.login.failure">Failed sign-in</td>' in page


@pytest.mark.django_db
def test_after_an_upload_the_page_comes_back_on_the_attachments_tab(
    personas: dict[str, Any], login: Any,
) -> None:
    d = deviation_in_state(personas, "draft", site=a_site())
    response = login(personas["author"]).post(
        reverse("records:attachment_add", args=["deviations", d.pk]),
        {"file": SimpleUploadedFile("log.csv", b"t;v\n", content_type="text/csv")})
    assert response["Location"] == reverse("deviations:detail", args=[d.pk]) + "#attachments"


@pytest.mark.django_db
def test_cancelling_is_offered_beside_the_way_forward_as_a_secondary_button(
    personas: dict[str, Any], login: Any,
) -> None:
    d = deviation_in_state(personas, "draft", site=a_site())
    page = login(personas["qa_manager"]).get(
        reverse("deviations:detail", args=[d.pk])).content.decode()
    assert re.findall(r'<summary class="btn small( secondary)?">([^<·]+)', page) == [
        ("", "Submit to QA"), (" secondary", "Cancel")]


@pytest.mark.django_db
def test_the_change_form_groups_its_fields_and_explains_the_risk_score(
    personas: dict[str, Any], login: Any,
) -> None:
    a_site()
    page = login(personas["author"]).get("/changes/new/").content.decode()
    legends = re.findall(r"<legend>([^<]+)</legend>", page)
    assert legends == ["Impact assessment", "Cybersecurity impact", "Risk", "Plan"]
    assert ("The risk priority number is severity × probability × detectability (1–125): "
            "low below 20, medium from 20, high from 60.") in html.unescape(page)


REQUIREMENT_ID = re.compile(r"\b(?:P11|A11D?|CYB|AL|ALC|DI|KPI)-\d+")


def _shown_text(template: str) -> str:
    """A template without its comments (where requirement IDs belong, with the code)."""
    template = re.sub(r"{% comment %}.*?{% endcomment %}", "", template, flags=re.S)
    return re.sub(r"{#.*?#}", "", template, flags=re.S)


def test_no_template_shows_a_requirement_id() -> None:
    """Requirement IDs live in docs and tests; people read what the rule means."""
    from pathlib import Path

    import cyberqms

    root = Path(cyberqms.__file__).parent
    shown = {str(path.relative_to(root)): REQUIREMENT_ID.findall(_shown_text(path.read_text()))
             for path in root.rglob("*.html")}
    assert {path: ids for path, ids in shown.items() if ids} == {}


def test_no_action_description_shows_a_requirement_id() -> None:
    """Action descriptions appear on the access-decision and role pages."""
    from cyberqms.platform.core.access import ACTIONS

    assert [name for name, spec in ACTIONS.items()
            if REQUIREMENT_ID.search(spec.description)] == []


@pytest.mark.django_db
def test_an_attachment_is_named_in_the_trail_by_its_records_number(
    personas: dict[str, Any], login: Any,
) -> None:
    from cyberqms.platform.trail.models import AuditEntry

    d = deviation_in_state(personas, "draft", site=a_site())
    login(personas["author"]).post(
        reverse("records:attachment_add", args=["deviations", d.pk]),
        {"file": SimpleUploadedFile("log.csv", b"t;v\n", content_type="text/csv")})
    entry = AuditEntry.objects.get(object_type="core.attachment")
    assert entry.object_label == f"log.csv (attachment of {d.number})"
