"""Working an alert (A11D-04): it is assigned to a person who may work alerts at its site,
or handed on to another, through one service (audited, the new assignee told); the alert
page's form, the list's column and its "assigned to me" filter, and the chain page show it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.kit.workflow import TransitionNotAllowed
from cyberqms.platform.notifications.models import Notification
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations.tests.factories import a_site
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.models import Alert, EventSource

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
QUERIES_PER_ALERT_LIST = 13  # as test_pages: the assignee comes with the row


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    services.reload_rules()


@pytest.fixture
def lims(personas: dict[str, Any]) -> EventSource:
    return services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog", site=a_site("BSL"),
    )


def brute_force(source: EventSource, *, user: str = "qc_analyst", ip: str = "10.20.0.7"
                ) -> Alert:
    lines = [
        f"<38>1 {(T0 + timedelta(seconds=10 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 "
        f"sshd 4242 - - Failed password for {user} from {ip} port 22 ssh2"
        for i in range(10)
    ]
    [alert] = services.ingest(source, lines, channel="syslog-tcp", received_at=T0).alerts
    return alert


def assign_entries(alert: Alert) -> list[tuple[str, Any]]:
    return [(e.actor_id, e.changes["assignee_id"]) for e in AuditEntry.objects.filter(
        object_type="monitoring.alert", object_id=str(alert.pk),
        action="monitoring.alert.assign").order_by("seq")]


# --- the service -------------------------------------------------------------------------------


def test_assigning_an_alert_sets_the_assignee_a11d_04(
    lims: EventSource, personas: dict[str, Any]
) -> None:
    alert = brute_force(lims)
    services.alert_assign(alert, actor=personas["qa_manager"], assignee=personas["it_security"])
    assert Alert.objects.get(pk=alert.pk).assignee == personas["it_security"]


def test_an_assignment_is_audited_with_the_assignee_before_and_after(
    lims: EventSource, personas: dict[str, Any]
) -> None:
    alert = brute_force(lims)
    services.alert_assign(alert, actor=personas["qa_manager"], assignee=personas["it_security"])
    services.alert_assign(alert, actor=personas["it_security"], assignee=personas["qa_manager"])
    security, manager = personas["it_security"].pk, personas["qa_manager"].pk
    assert assign_entries(alert) == [(manager, [None, security]),
                                     (security, [security, manager])]


def test_the_new_assignee_is_told_in_words_on_commit(
    lims: EventSource, personas: dict[str, Any], django_capture_on_commit_callbacks: Any,
) -> None:
    alert = brute_force(lims)
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_assign(alert, actor=personas["qa_manager"],
                              assignee=personas["it_security"])
    [notice] = Notification.objects.filter(kind="assignment")
    assert (notice.recipient, notice.subject, notice.url) == (
        personas["it_security"], f"{alert.number} assigned to you: Brute force against one account",
        reverse("monitoring:alert", args=[alert.pk]))


def test_taking_an_alert_oneself_tells_nobody(
    lims: EventSource, personas: dict[str, Any], django_capture_on_commit_callbacks: Any,
) -> None:
    alert = brute_force(lims)
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_assign(alert, actor=personas["it_security"],
                              assignee=personas["it_security"])
    assert Notification.objects.filter(kind="assignment").count() == 0


def test_assigning_the_current_assignee_again_changes_nothing(
    lims: EventSource, personas: dict[str, Any]
) -> None:
    alert = brute_force(lims)
    services.alert_assign(alert, actor=personas["qa_manager"], assignee=personas["it_security"])
    services.alert_assign(alert, actor=personas["qa_manager"], assignee=personas["it_security"])
    assert len(assign_entries(alert)) == 1


def test_only_people_who_may_work_alerts_can_be_assigned(
    lims: EventSource, personas: dict[str, Any]
) -> None:
    alert = brute_force(lims)
    with pytest.raises(ValidationError) as refused:
        services.alert_assign(alert, actor=personas["qa_manager"], assignee=personas["auditor"])
    assert refused.value.message_dict == {"assignee": [
        "Auditor may not work on security alerts at BSL: choose someone who can."]}


def test_a_security_officer_of_another_site_cannot_be_assigned(
    lims: EventSource, personas: dict[str, Any], make_user: Callable[..., Any]
) -> None:
    alert = brute_force(lims)
    dublin = make_user("dublin_security", "it_security", site=a_site("DUB"))
    with pytest.raises(ValidationError) as refused:
        services.alert_assign(alert, actor=personas["qa_manager"], assignee=dublin)
    assert list(refused.value.message_dict) == ["assignee"]


def test_who_may_not_triage_may_not_assign(
    lims: EventSource, personas: dict[str, Any]
) -> None:
    alert = brute_force(lims)
    with pytest.raises(AccessDenied):
        services.alert_assign(alert, actor=personas["auditor"], assignee=personas["it_security"])


def test_a_closed_alert_is_not_assigned(lims: EventSource, personas: dict[str, Any]) -> None:
    alert = brute_force(lims)
    services.alert_transition(alert, "resolve", actor=personas["it_security"],
                              reason="Password typo, confirmed by phone.")
    with pytest.raises(TransitionNotAllowed):
        services.alert_assign(alert, actor=personas["qa_manager"],
                              assignee=personas["it_security"])


def test_the_people_offered_are_those_who_may_work_alerts_at_the_site(
    lims: EventSource, personas: dict[str, Any], make_user: Callable[..., Any]
) -> None:
    alert = brute_force(lims)
    make_user("dublin_security", "it_security", site=a_site("DUB"))
    assert [p.username for p in services.alert_assignees(alert)] == ["it_security",
                                                                      "qa_manager"]


# --- the alert page ----------------------------------------------------------------------------


def test_the_alert_page_offers_the_assignment_to_those_who_triage(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    page = login(personas["qa_manager"]).get(reverse("monitoring:alert", args=[alert.pk]))
    assert [p.username for p in page.context["assignees"]] == ["it_security", "qa_manager"]
    assert 'data-testid="assign-form"' in page.text


def test_readers_see_the_assignee_without_the_form(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    services.alert_assign(alert, actor=personas["qa_manager"], assignee=personas["it_security"])
    page = login(personas["auditor"]).get(reverse("monitoring:alert", args=[alert.pk]))
    assert ('data-testid="assignee-name">It Security</strong>' in page.text,
            'data-testid="assign-form"' in page.text) == (True, False)


def test_assigning_with_htmx_answers_the_assignee_block(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    response = login(personas["qa_manager"]).post(
        reverse("monitoring:alert_assign", args=[alert.pk]),
        {"assignee": personas["it_security"].pk}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div class="alert-assignee" id="alert-assignee"')
    assert 'data-testid="assignee-name">It Security</strong>' in response.text


def test_assigning_without_scripts_returns_to_the_alert_with_a_message(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    response = login(personas["qa_manager"]).post(
        reverse("monitoring:alert_assign", args=[alert.pk]),
        {"assignee": personas["it_security"].pk}, follow=True)
    assert response.redirect_chain == [(reverse("monitoring:alert", args=[alert.pk]), 302)]
    assert f"{alert.number} is assigned to It Security." in response.text


def test_a_refused_assignment_shows_why_in_the_block(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    response = login(personas["qa_manager"]).post(
        reverse("monitoring:alert_assign", args=[alert.pk]),
        {"assignee": personas["auditor"].pk}, headers={"HX-Request": "true"})
    assert response.context["assign_error"] == (
        "Auditor may not work on security alerts at BSL: choose someone who can.")
    assert Alert.objects.get(pk=alert.pk).assignee is None


def test_an_auditor_cannot_post_an_assignment(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    response = login(personas["auditor"]).post(
        reverse("monitoring:alert_assign", args=[alert.pk]),
        {"assignee": personas["it_security"].pk})
    assert (response.status_code, Alert.objects.get(pk=alert.pk).assignee) == (403, None)


# --- the list and the chain --------------------------------------------------------------------


def test_the_list_shows_each_alerts_assignee(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    services.alert_assign(alert, actor=personas["qa_manager"], assignee=personas["it_security"])
    page = login(personas["qa_manager"]).get(reverse("monitoring:alerts"))
    assert '<td data-testid="alert-assignee">It Security</td>' in page.text


def test_assigned_to_me_lists_only_my_alerts(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    mine = brute_force(lims)
    brute_force(lims, user="lab_admin", ip="10.20.0.9")
    services.alert_assign(mine, actor=personas["qa_manager"], assignee=personas["it_security"])
    page = login(personas["it_security"]).get(reverse("monitoring:alerts"), {"assignee": "me"})
    assert [a.number for a in page.context["page"]] == [mine.number]


def test_nobody_yet_lists_the_unassigned_alerts(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    mine = brute_force(lims)
    other = brute_force(lims, user="lab_admin", ip="10.20.0.9")
    services.alert_assign(mine, actor=personas["qa_manager"], assignee=personas["it_security"])
    page = login(personas["it_security"]).get(reverse("monitoring:alerts"), {"assignee": "none"})
    assert [a.number for a in page.context["page"]] == [other.number]


def test_assigned_alerts_cost_the_list_no_query_per_row(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = login(personas["it_security"])
    client.get("/")  # the session's first request records the idle clock
    services.alert_assign(brute_force(lims), actor=personas["qa_manager"],
                          assignee=personas["it_security"])
    with django_assert_num_queries(QUERIES_PER_ALERT_LIST):
        client.get(reverse("monitoring:alerts"))
    for n in range(4):
        services.alert_assign(brute_force(lims, user=f"user{n}", ip=f"10.20.1.{n}"),
                              actor=personas["it_security"],
                              assignee=personas["qa_manager" if n % 2 else "it_security"])
    with django_assert_num_queries(QUERIES_PER_ALERT_LIST):
        response = client.get(reverse("monitoring:alerts"))
    assert len(response.context["page"]) == 5


def test_the_chain_page_shows_the_alerts_assignee(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    from cyberqms.security.incidents.services import incident_from_alert

    alert = brute_force(lims)
    services.alert_assign(alert, actor=personas["qa_manager"], assignee=personas["qa_manager"])
    incident = incident_from_alert(alert, actor=personas["it_security"])
    page = login(personas["qa_manager"]).get(reverse("incidents:chain", args=[incident.pk]))
    [node] = page.context["chain"].stages["alert"]
    assert (node.number, node.owner) == (alert.number, "Qa Manager")
    assert "<dt>Assignee</dt><dd>Qa Manager</dd>" in page.text
