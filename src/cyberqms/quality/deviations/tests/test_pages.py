"""Deviation pages: list (filters, counts, query count), create form with field errors,
detail on the record kit with its grouped sections, edit form, spawning a CAPA."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from cyberqms.quality.deviations.models import Deviation

from .factories import a_site, deviation_in_state, security_alert, security_incident

pytestmark = pytest.mark.django_db


def _shown(html: str) -> list[str]:
    """The deviation numbers listed in the table, in order."""
    return re.findall(r'<td class="mono nowrap"><a href="/deviations/\d+/">(DEV-[\d-]+)</a>',
                      html)


def test_list_filters_counts_and_marks_cyber(people: dict[str, Any], login: Any,
                                             django_assert_max_num_queries: Any) -> None:
    incident = security_incident(people, a_site())
    cyber = deviation_in_state(people, "open", title="Phishing led to LIMS login",
                               originator="it_security", cyber_related=True,
                               security_reference=incident.number)
    plain = deviation_in_state(people, "draft", title="Missing signature on batch record")
    client = login(people["auditor"])
    with django_assert_max_num_queries(20):
        page = client.get("/deviations/")
    html = page.content.decode()
    assert page.status_code == 200
    assert _shown(html) == [plain.number, cyber.number]
    assert f'title="Cyber-related: {incident.number}">cyber</span>' in html
    strip = html[html.index('data-testid="state-counts"'):html.index("</nav>",
                                                                     html.index("state-counts"))]
    assert '<span class="value">1</span><span class="label">Draft</span>' in strip
    assert '<span class="value">1</span><span class="label">Open (QA triage)</span>' in strip
    filtered = client.get("/deviations/", {"cyber_related": "true"}).content.decode()
    assert _shown(filtered) == [cyber.number]
    by_state = client.get("/deviations/", {"state": "draft"}).content.decode()
    assert _shown(by_state) == [plain.number]
    searched = client.get("/deviations/", {"q": "phishing"}).content.decode()
    assert _shown(searched) == [cyber.number]
    mine = login(people["author"]).get("/deviations/", {"mine": "true"}).content.decode()
    assert _shown(mine) == [plain.number, cyber.number]
    assert _shown(client.get("/deviations/", {"sort": "number"}).content.decode()) == [
        cyber.number, plain.number]


def test_create_page_shows_field_errors_then_creates(people: dict[str, Any], site: Any,
                                                     login: Any) -> None:
    client = login(people["author"])
    assert client.get("/deviations/new/").status_code == 200
    old = (timezone.now() - dt.timedelta(days=6)).strftime("%Y-%m-%dT%H:%M")
    form = {"site": site.code, "title": "Balance out of calibration", "owner": people["author"].pk,
            "description": "Found at the daily check.", "event_at": old}
    refused = client.post("/deviations/new/", form)
    assert refused.status_code == 422
    assert "The event is more than 72 hours old: say why it is recorded late." in \
        refused.content.decode()
    assert Deviation.objects.count() == 0
    form["late_entry_reason"] = "Logbook reviewed late"
    created = client.post("/deviations/new/", form)
    d = Deviation.objects.get()
    assert (created.status_code, created["Location"]) == (302, f"/deviations/{d.pk}/")
    assert (d.late_entry, d.originator) == (True, people["author"])


def test_detail_groups_sections_and_actions(people: dict[str, Any], login: Any) -> None:
    security_alert(a_site(), number="ALERT-2026-0042")
    d = deviation_in_state(people, "open", cyber_related=True, gxp_impact=True,
                           gxp_impact_text="Batch may be affected", originator="it_security",
                           security_reference="ALERT-2026-0042")
    html = login(people["qa_approver"]).get(f"/deviations/{d.pk}/").content.decode()
    for heading in ("<h2>Event</h2>", "<h2>Impact</h2>", "<h2>Immediate actions</h2>",
                    "<h2>Investigation and root cause</h2>", "<h2>QA</h2>",
                    "Linked CAPA"):
        assert heading in html
    assert 'data-testid="cyber-notice"' in html
    assert "cyber-related · ALERT-2026-0042" in html
    assert 'data-action="triage"' in html
    assert 'data-testid="edit-form"' in html
    assert 'name="reason"' in html
    author_view = login(people["author"]).get(f"/deviations/{d.pk}/").content.decode()
    # triage is QA's step: the author's page does not offer it
    assert 'data-action="triage"' not in author_view


def test_detail_of_a_missing_deviation_is_404(people: dict[str, Any], login: Any) -> None:
    assert login(people["author"]).get("/deviations/999999/").status_code == 404


def test_edit_form_saves_with_reason(people: dict[str, Any], login: Any) -> None:
    d = deviation_in_state(people, "investigation")
    client = login(people["author"])
    refused = client.post(f"/deviations/{d.pk}/edit/", {
        "owner": people["author"].pk, "classification": "major",
        "root_cause": "Seal worn", "root_cause_category": "equipment"})
    assert refused.status_code == 422
    saved = client.post(f"/deviations/{d.pk}/edit/", {
        "owner": people["author"].pk, "classification": "major", "root_cause": "Seal worn",
        "root_cause_category": "equipment", "investigation_summary": "Checked",
        "reason": "Investigation findings"})
    assert saved.status_code == 302
    d.refresh_from_db()
    assert (d.root_cause, d.root_cause_category, d.investigation_summary) == (
        "Seal worn", "equipment", "Checked")


def test_spawn_capa_from_the_page(people: dict[str, Any], login: Any) -> None:
    d = deviation_in_state(people, "qa_review")
    client = login(people["author"])
    page = client.get(f"/deviations/{d.pk}/").content.decode()
    assert 'data-testid="spawn-capa"' in page
    done = client.post(f"/deviations/{d.pk}/capa/", {
        "title": "Preventive maintenance of cold rooms", "owner": people["process_owner"].pk,
        "due_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat()})
    assert done.status_code == 302
    page = client.get(f"/deviations/{d.pk}/").content.decode()
    assert "Preventive maintenance of cold rooms" in page
