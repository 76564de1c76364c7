"""Change-control pages: list (filters, query count), create with field errors, detail
with the impact-assessment panel, edits, htmx task partials (CYB-06, P11-11)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ..enums import ChangeState, TaskState
from ..models import Change
from .factories import change_in, site

pytestmark = pytest.mark.django_db
S = ChangeState


def test_list_filters(personas: dict[str, Any], login: Any) -> None:
    cyber = change_in(S.DRAFT, personas, cyber=True, title="Remote access for vendor")
    for n in range(3):
        change_in(S.DRAFT, personas, title=f"SOP {n}")
    client = login(personas["auditor"])
    response = client.get("/changes/")
    assert response.status_code == 200
    html = response.content.decode()
    assert len(re.findall(r'href="/changes/\d+/"', html)) == 4
    filtered = client.get("/changes/", {"cyber_impact": "true"}).content.decode()
    assert cyber.number in filtered
    assert "SOP 1" not in filtered
    assert "New change" not in html  # auditors see, never raise


def test_create_page_errors_then_success(personas: dict[str, Any], login: Any) -> None:
    basel = site()
    client = login(personas["author"])
    assert client.get("/changes/new/").status_code == 200
    bad = client.post("/changes/new/", {"site": basel.code, "title": "", "change_type": "x",
                                        "justification": "", "severity": "9",
                                        "owner": personas["author"].pk})
    assert bad.status_code == 422
    form = bad.context["form"]
    assert sorted(form.errors) == ["change_type", "severity", "title"]
    good = client.post("/changes/new/", {"site": basel.code, "title": "New label printer",
                                         "change_type": "equipment",
                                         "owner": personas["author"].pk,
                                         "justification": "Old one failed"})
    change = Change.objects.get()
    assert (good.status_code, good["Location"]) == (302, f"/changes/{change.pk}/")
    assert (change.originator, change.owner) == (personas["author"], personas["author"])
    missing = client.post("/changes/new/", {"site": basel.code, "title": "x",
                                            "owner": personas["author"].pk,
                                            "change_type": "equipment", "justification": ""})
    assert missing.context["form"].errors == {"justification": ["Say why the change is needed."]}


def test_detail_shows_impact_panel_and_sod_refusal(personas: dict[str, Any], login: Any) -> None:
    change = change_in(S.ASSESSMENT, personas, cyber=True)
    response = login(personas["qa_approver"]).get(f"/changes/{change.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="cyber-badge"' in html
    assert "risk low · RPN 12" in html
    assert '<li class="yes"><span class="answer">Yes</span> New or changed interfaces' in html
    assert '<li class="no"><span class="answer">No</span> New user, service or vendor' in html
    actions = {a["action"]: a["refusal"] for a in response.context["actions"]}
    assert actions["qa_approve"] == ""
    # an action outside the viewer's roles is not offered on the page at all
    own = login(personas["author"]).get(f"/changes/{change.pk}/")
    assert "qa_approve" not in {a["action"] for a in own.context["actions"]}
    assert login(personas["outsider"]).get(f"/changes/{change.pk}/").status_code == 403


def test_edit_form_in_draft_and_reason_later(personas: dict[str, Any], login: Any) -> None:
    change = change_in(S.DRAFT, personas)
    client = login(personas["author"])
    data = {"title": "Renamed", "change_type": "process", "justification": "J",
            "owner": personas["author"].pk, "severity": "4", "probability": "2",
            "detectability": "2"}
    response = client.post(f"/changes/{change.pk}/edit/", data)
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.title, change.risk_score) == ("Renamed", 16)
    submitted = change_in(S.ASSESSMENT, personas)
    qa = login(personas["qa_approver"])
    fields = {name: getattr(submitted, name) or "" for name in (
        "scope", "product_quality_impact", "validation_impact", "regulatory_impact",
        "cyber_assessment", "probability", "detectability")}
    refused = qa.post(f"/changes/{submitted.pk}/edit/", {**fields, "severity": "5"})
    assert refused.status_code == 422
    assert refused.context["edit_form"].errors == {"reason": [
        "Say why the change record is updated."]}
    saved = qa.post(f"/changes/{submitted.pk}/edit/", {**fields, "severity": "5",
                                                       "reason": "Worst case is a recall"})
    assert saved.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.risk_score, submitted.scope) == (20, fields["scope"])


def test_task_partials_over_htmx(personas: dict[str, Any], login: Any) -> None:
    change = change_in(S.IMPLEMENTATION, personas)
    client = login(personas["author"])
    htmx = {"HTTP_HX_REQUEST": "true"}
    added = client.post(f"/changes/{change.pk}/tasks/",
                        {"description": "Load recipe", "owner": personas["author"].pk}, **htmx)
    assert added.status_code == 200
    html = added.content.decode()
    assert html.startswith('\n<section class="panel flush" id="change-tasks"')
    assert "Load recipe" in html
    bad = client.post(f"/changes/{change.pk}/tasks/", {"description": "", "owner": ""}, **htmx)
    assert bad.status_code == 422
    assert "This field is required." in bad.content.decode()
    task = change.tasks.get()
    done = client.post(f"/changes/{change.pk}/tasks/{task.pk}/complete/", {"note": "ok"},
                       **htmx)
    assert done.status_code == 200
    task.refresh_from_db()
    assert task.state == TaskState.DONE
    plain = client.post(f"/changes/{change.pk}/tasks/{task.pk}/cancel/", {"reason": "x"})
    assert (plain.status_code, plain["Location"]) == (302, f"/changes/{change.pk}/")


def test_pir_form_in_review(personas: dict[str, Any], login: Any) -> None:
    change = change_in(S.REVIEW, personas)
    client = login(personas["qa_manager"])
    page = client.get(f"/changes/{change.pk}/")
    assert sorted(page.context["edit_form"].fields) == [
        "expected_hash", "pir_outcome", "post_implementation_review", "reason"]
    assert 'data-testid="edit-form"' not in page.content.decode()  # the review's own panel
    saved = client.post(f"/changes/{change.pk}/edit/", {
        "post_implementation_review": "Works", "pir_outcome": "effective", "reason": "PIR"})
    assert saved.status_code == 302
    change.refresh_from_db()
    assert (change.post_implementation_review, change.pir_outcome) == ("Works", "effective")
