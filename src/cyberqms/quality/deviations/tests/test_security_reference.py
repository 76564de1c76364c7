"""A deviation's security reference (AL-10, CYB-05): the picker offers the security alerts
and incidents the person may see at the deviation's site; pages, API and services refuse
any other number naming the field; the reference is a link both pages show, replaced when
the reference changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cyberqms.platform.core.models import RecordLink
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations import services
from cyberqms.quality.deviations.models import Deviation

from .factories import a_site, deviation_in_state, draft_values, security_alert, security_incident

pytestmark = pytest.mark.django_db

PICKER = "/deviations/security-references/"


def _options(client: Any, **query: str) -> str:
    response = client.get(PICKER, query)
    assert response.status_code == 200
    return response.content.decode().strip()


def _option(record: Any, noun: str) -> str:
    return f'<option value="{record.number}">{noun} · {record.title}</option>'


def _current_links() -> list[tuple[str, str, str]]:
    return list(RecordLink.objects.filter(removed_at__isnull=True)
                .values_list("from_label", "to_label", "note"))


# --- the picker ---------------------------------------------------------------------------


def test_picker_offers_the_sites_incidents_and_alerts_newest_first_al_10(
    people: dict[str, Any], site: Any, login: Any
) -> None:
    incident = security_incident(people, site)
    alert = security_alert(site)
    html = _options(login(people["it_security"]), site=site.code)
    assert html == _option(incident, "Security incident") + _option(alert, "Security alert")


def test_picker_leaves_out_another_sites_records(
    people: dict[str, Any], site: Any, login: Any, make_user: Callable[..., Any]
) -> None:
    dublin = a_site("DUB")
    security_incident(people, dublin, title="Phishing at Dublin")
    security_alert(dublin, number="ALERT-2026-0077")
    here = security_incident(people, site)
    analyst = make_user("muc_analyst", "it_security", site=site)
    client = login(analyst)
    assert _options(client, site="DUB") == ""
    assert _options(client, site=site.code) == _option(here, "Security incident")


def test_picker_shows_no_alerts_to_someone_without_monitoring_rights(
    people: dict[str, Any], site: Any, login: Any
) -> None:
    incident = security_incident(people, site)
    security_alert(site)
    html = _options(login(people["qa_approver"]), site=site.code)
    assert html == _option(incident, "Security incident")


def test_picker_offers_an_author_nothing_to_name(
    people: dict[str, Any], site: Any, login: Any
) -> None:
    security_incident(people, site)
    security_alert(site)
    assert _options(login(people["author"]), site=site.code) == ""


def test_picker_matches_number_or_title(people: dict[str, Any], site: Any, login: Any) -> None:
    incident = security_incident(people, site)
    alert = security_alert(site)
    client = login(people["it_security"])
    assert _options(client, site=site.code, security_reference="brute") == _option(
        alert, "Security alert")
    assert _options(client, site=site.code, q=incident.number.lower()) == _option(
        incident, "Security incident")


def test_picker_without_a_site_offers_nothing(people: dict[str, Any], site: Any,
                                              login: Any) -> None:
    security_incident(people, site)
    assert _options(login(people["it_security"])) == ""


def test_picker_reads_the_same_queries_for_one_and_many_records(
    people: dict[str, Any], site: Any, login: Any
) -> None:
    client = login(people["it_security"])
    security_incident(people, site)
    security_alert(site)
    client.get(PICKER, {"site": site.code})  # the session and profile are warm now
    with CaptureQueriesContext(connection) as one:
        client.get(PICKER, {"site": site.code})
    for n in range(3):
        security_incident(people, site, title=f"Incident {n}")
        security_alert(site, number=f"ALERT-2026-01{n:02d}")
    with CaptureQueriesContext(connection) as many:
        html = _options(client, site=site.code)
    assert html.count("<option") == 8
    assert len(many) == len(one)


def test_create_page_offers_the_picker(people: dict[str, Any], login: Any) -> None:
    html = login(people["it_security"]).get("/deviations/new/").content.decode()
    assert 'list="id_security_reference-options"' in html
    assert f'hx-get="{PICKER}"' in html
    assert 'hx-include="[name=&#x27;site&#x27;]"' in html
    assert ('<datalist id="id_security_reference-options" '
            'data-testid="security-reference-options"></datalist>') in html


def test_event_time_shows_the_time_zone_it_is_read_in(people: dict[str, Any],
                                                      login: Any) -> None:
    html = login(people["author"]).get("/deviations/new/").content.decode()
    zone = timezone.get_current_timezone_name()
    assert html.count(f"Your time zone: {zone}.") == 1


def test_the_time_zone_hint_names_the_active_zone() -> None:
    from django import forms
    from django.template.loader import render_to_string

    from cyberqms.platform.kit.family_pages import DateTimeLocal

    class When(forms.Form):
        event_at = forms.DateTimeField(widget=DateTimeLocal())

    with timezone.override("Europe/Zurich"):
        html = render_to_string("core/_field.html", {"field": When()["event_at"]})
    assert ('<span class="helptext" data-testid="time-zone-hint">Your time zone: '
            'Europe/Zurich.</span>') in html


# --- validation -----------------------------------------------------------------------------


def _refused(number: str, site: Any) -> str:
    return (f"No security alert or incident {number} at {site.code} that you may see: choose "
            "one from the suggestions.")


def test_service_refuses_an_unknown_number(people: dict[str, Any], site: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        services.deviation_create(actor=people["it_security"], site=site, **draft_values(
            cyber_related=True, security_reference="SEC-2026-0999"))
    assert refused.value.message_dict == {"security_reference": [_refused("SEC-2026-0999",
                                                                          site)]}


def test_service_refuses_another_sites_incident(people: dict[str, Any], site: Any) -> None:
    elsewhere = security_incident(people, a_site("DUB"))
    with pytest.raises(ValidationError) as refused:
        services.deviation_create(actor=people["it_security"], site=site, **draft_values(
            cyber_related=True, security_reference=elsewhere.number))
    assert refused.value.message_dict == {"security_reference": [_refused(elsewhere.number,
                                                                          site)]}


def test_service_refuses_an_alert_the_writer_may_not_see(people: dict[str, Any],
                                                         site: Any) -> None:
    alert = security_alert(site)
    d = deviation_in_state(people, "draft", site=site, cyber_related=True)
    with pytest.raises(ValidationError) as refused:
        services.deviation_update(d, actor=people["qa_approver"],
                                  changes={"security_reference": alert.number})
    assert refused.value.message_dict == {"security_reference": [_refused(alert.number, site)]}


def test_service_takes_a_visible_number_in_any_case(people: dict[str, Any], site: Any) -> None:
    incident = security_incident(people, site)
    d = services.deviation_create(actor=people["it_security"], site=site, **draft_values(
        cyber_related=True, security_reference=f" {incident.number.lower()} "))
    assert d.security_reference == incident.number


def test_create_page_refuses_an_unknown_number_on_the_field(
    people: dict[str, Any], site: Any, login: Any
) -> None:
    client = login(people["it_security"])
    response = client.post("/deviations/new/", {
        "site": site.code, "title": "Ransomware on ENG-WS-4", "owner": people["author"].pk,
        "description": "Quarantined by endpoint protection.",
        "cyber_related": "on", "security_reference": "SEC-2026-0999"})
    html = response.content.decode()
    assert response.status_code == 422
    field = html[html.index('name="security_reference"'):html.index("Immediate actions")]
    assert f"<li>{_refused('SEC-2026-0999', site)}</li>" in field
    assert Deviation.objects.count() == 0


def test_api_refuses_an_invisible_alert_naming_the_field(
    people: dict[str, Any], site: Any, login: Any
) -> None:
    alert = security_alert(site)
    response = login(people["qa_approver"]).post("/api/v1/deviations", {
        "site": site.code, "title": "Brute force on LIMS", "owner": "author",
        "cyber_related": True, "security_reference": alert.number,
    }, content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (422, "application/problem+json")
    assert response.json()["errors"] == [
        {"field": "security_reference", "message": _refused(alert.number, site)}]


def test_api_gives_the_named_record(people: dict[str, Any], site: Any, login: Any) -> None:
    incident = security_incident(people, site)
    d = deviation_in_state(people, "draft", site=site, originator="it_security",
                           cyber_related=True, security_reference=incident.number)
    data = login(people["qa_manager"]).get(f"/api/v1/deviations/{d.pk}").json()
    assert data["security_record"] == {
        "number": incident.number, "kind": "Security incident", "title": incident.title,
        "url": f"/incidents/{incident.pk}/"}


# --- linked both ways ----------------------------------------------------------------------


def test_deviation_page_links_the_incident_al_10(people: dict[str, Any], site: Any,
                                                 login: Any) -> None:
    incident = security_incident(people, site)
    d = deviation_in_state(people, "open", site=site, originator="it_security",
                           cyber_related=True, security_reference=incident.number)
    html = login(people["qa_manager"]).get(f"/deviations/{d.pk}/").content.decode()
    link = (f'<a class="mono" href="/incidents/{incident.pk}/" data-testid="security-link">'
            f'{incident.number}</a> {incident.title}')
    assert html.count(link) == 2  # the cyber notice and the impact panel
    assert f"Linked security incident: {link}." in html


def test_deviation_page_shows_the_number_alone_to_who_may_not_see_it(
    people: dict[str, Any], site: Any, login: Any
) -> None:
    incident = security_incident(people, site)
    d = deviation_in_state(people, "open", site=site, originator="it_security",
                           cyber_related=True, security_reference=incident.number)
    html = login(people["author"]).get(f"/deviations/{d.pk}/").content.decode()
    assert f'href="/incidents/{incident.pk}/"' not in html
    assert (f'<span class="mono" data-testid="security-reference">{incident.number}</span>'
            in html)


def test_incident_page_lists_the_deviation_al_10(people: dict[str, Any], site: Any,
                                                 login: Any) -> None:
    incident = security_incident(people, site)
    d = deviation_in_state(people, "draft", site=site, originator="it_security",
                           cyber_related=True, security_reference=incident.number)
    html = login(people["qa_manager"]).get(f"/incidents/{incident.pk}/").content.decode()
    assert f'<a href="/deviations/{d.pk}/">{d.label}</a>' in html


def test_alert_page_lists_the_deviation_al_10(people: dict[str, Any], site: Any,
                                              login: Any) -> None:
    alert = security_alert(site)
    d = deviation_in_state(people, "draft", site=site, originator="it_security",
                           cyber_related=True, security_reference=alert.number)
    html = login(people["qa_manager"]).get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert (f'<li>Deviation <a class="mono" href="/deviations/{d.pk}/">{d.number}</a> '
            f'{d.title} <span class="badge state">Draft</span></li>') in html


def test_changed_reference_replaces_the_link(people: dict[str, Any], site: Any) -> None:
    incident = security_incident(people, site)
    alert = security_alert(site)
    d = deviation_in_state(people, "draft", site=site, originator="it_security",
                           cyber_related=True, security_reference=incident.number)
    services.deviation_update(d, actor=people["it_security"],
                              changes={"security_reference": alert.number})
    assert _current_links() == [(d.label, f"{alert.number} {alert.title}",
                                 "Security reference")]
    removed = RecordLink.objects.get(removed_at__isnull=False)
    assert (removed.to_label, removed.removed_reason) == (
        incident.label, f"The reference now names {alert.number}.")
    assert list(AuditEntry.objects.filter(action__startswith="core.link.")
                .order_by("seq").values_list("action", flat=True)) == [
        "core.link.add", "core.link.delete", "core.link.add"]


def test_cleared_reference_removes_the_link(people: dict[str, Any], site: Any) -> None:
    incident = security_incident(people, site)
    d = deviation_in_state(people, "draft", site=site, originator="it_security",
                           cyber_related=True, security_reference=incident.number)
    services.deviation_update(d, actor=people["it_security"],
                              changes={"security_reference": "", "cyber_related": False})
    assert _current_links() == []
    assert RecordLink.objects.get().removed_reason == "The reference was cleared."


def test_an_unchanged_reference_keeps_its_one_link(people: dict[str, Any], site: Any) -> None:
    incident = security_incident(people, site)
    d = deviation_in_state(people, "investigation", site=site, originator="it_security",
                           cyber_related=True, security_reference=incident.number)
    services.deviation_update(d, actor=people["author"], reason="More detail",
                              changes={"immediate_actions": "Workstation isolated."})
    assert _current_links() == [(d.label, incident.label, "Security reference")]
