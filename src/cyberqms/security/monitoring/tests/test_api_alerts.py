"""The alerts over the API (A11D-04): list with filters, detail with the events kept, the
explanation and the records the alert led to, lifecycle steps and assignment through the
pages' services; refusals as problem+json naming the field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest
from django.test import Client

from cyberqms.quality.deviations.tests.factories import a_site
from cyberqms.security.incidents.services import incident_from_alert, incident_open_deviation
from cyberqms.security.incidents.tests.test_incidents import assessed
from cyberqms.security.monitoring import queries, services
from cyberqms.security.monitoring.enums import LEVEL_ORDER, AlertState
from cyberqms.security.monitoring.models import Alert, EventSource
from cyberqms.security.monitoring.schemas import LevelFilter, SortKey, StateFilter

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"
ALERTS = "/api/v1/monitoring/alerts"
# session, user, roles, MFA check, the access decision, the count, the page's ids, its
# rows (with their site, source and assignee)
QUERIES_PER_LIST = 8


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    services.reload_rules()


@pytest.fixture
def lims(personas: dict[str, Any]) -> EventSource:
    return services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog", site=a_site("BSL"),
    )


def brute_force(source: EventSource, *, user: str = "qc_analyst", ip: str = "10.20.0.7",
                start: datetime = T0) -> Alert:
    lines = [
        f"<38>1 {(start + timedelta(seconds=10 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 "
        f"sshd 4242 - - Failed password for {user} from {ip} port 22 ssh2"
        for i in range(10)
    ]
    [alert] = services.ingest(source, lines, channel="syslog-tcp", received_at=start).alerts
    return alert


def numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert (response.status_code, response["Content-Type"]) == (status, PROBLEM)
    body: dict[str, Any] = response.json()
    return body


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


# --- the list ----------------------------------------------------------------------------------


def test_the_list_gives_open_alerts_in_words_a11d_04(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    [row] = login(personas["qa_manager"]).get(ALERTS).json()["results"]
    assert {k: row[k] for k in ("number", "title", "level", "state_label", "site", "source",
                                "grouped_on", "assignee", "count", "url")} == {
        "number": alert.number, "title": "Brute force against one account", "level": "high",
        "state_label": "New", "site": "BSL", "source": "LIMS BSL",
        "grouped_on": [{"label": "Account", "value": "qc_analyst"},
                       {"label": "Source address", "value": "10.20.0.7"}],
        "assignee": None, "count": 10, "url": f"/monitoring/alerts/{alert.pk}/",
    }


def test_closed_alerts_are_listed_with_state_any(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    services.alert_transition(alert, "false_positive", actor=personas["it_security"],
                              reason="Scheduled password audit.")
    client = login(personas["qa_manager"])
    assert (numbers(client.get(ALERTS)), numbers(client.get(ALERTS, {"state": "any"}))) == (
        [], [alert.number])


def test_the_list_filters_by_level_rule_and_search(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    brute_force(lims, user="lab_admin", ip="10.20.0.9")
    client = login(personas["qa_manager"])
    assert (numbers(client.get(ALERTS, {"q": "qc_analyst"})),
            numbers(client.get(ALERTS, {"level": "critical"})),
            len(numbers(client.get(ALERTS, {"rule": alert.rule_id})))) == ([alert.number], [], 2)


def test_the_list_filters_by_assignee(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    mine = brute_force(lims)
    other = brute_force(lims, user="lab_admin", ip="10.20.0.9")
    services.alert_assign(mine, actor=personas["qa_manager"], assignee=personas["it_security"])
    client = login(personas["it_security"])
    assert (numbers(client.get(ALERTS, {"assignee": "me"})),
            numbers(client.get(ALERTS, {"assignee": "it_security"})),
            numbers(client.get(ALERTS, {"assignee": "none"}))) == (
        [mine.number], [mine.number], [other.number])


def test_the_list_filters_by_the_time_the_alerts_were_seen(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    early = brute_force(lims)
    late = brute_force(lims, user="lab_admin", ip="10.20.0.9", start=T0 + timedelta(hours=2))
    client = login(personas["qa_manager"])
    assert (numbers(client.get(ALERTS, {"since": "2026-11-20T10:00:00Z"})),
            numbers(client.get(ALERTS, {"until": "2026-11-20T10:00:00+00:00"}))) == (
        [late.number], [early.number])


def test_the_list_filters_by_site(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    a_site("DUB")
    client = login(personas["qa_manager"])
    assert (numbers(client.get(ALERTS, {"site": "BSL"})),
            numbers(client.get(ALERTS, {"site": "DUB"}))) == ([alert.number], [])


@pytest.mark.parametrize(("query", "field"), [
    ({"level": "severe"}, "level"), ({"state": "closed"}, "state"),
    ({"since": "2026-11-20T10:00:00"}, "since"), ({"page_size": 0}, "page_size"),
    ({"site": "NOPE"}, "site"), ({"assignee": "nobody_by_that_name"}, "assignee"),
    ({"since": "2026-11-20T10:00:00Z", "until": "2026-11-20T09:00:00Z"}, "until"),
])
def test_a_filter_that_does_not_validate_is_named(
    query: dict[str, Any], field: str, personas: dict[str, Any],
    login: Callable[[Any], Client],
) -> None:
    body = problem(login(personas["qa_manager"]).get(ALERTS, query), 422)
    assert [e["field"] for e in body["errors"]] == [field]


def test_the_list_costs_the_same_queries_for_one_alert_and_five(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = login(personas["qa_manager"])
    client.get("/")  # the session's first request records the idle clock
    services.alert_assign(brute_force(lims), actor=personas["qa_manager"],
                          assignee=personas["it_security"])
    with django_assert_num_queries(QUERIES_PER_LIST):
        client.get(ALERTS)
    for n in range(4):
        services.alert_assign(brute_force(lims, user=f"user{n}", ip=f"10.20.1.{n}"),
                              actor=personas["qa_manager"], assignee=personas["qa_manager"])
    with django_assert_num_queries(QUERIES_PER_LIST):
        response = client.get(ALERTS)
    assert len(numbers(response)) == 5


def test_other_sites_alerts_are_not_listed(
    lims: EventSource, personas: dict[str, Any], make_user: Callable[..., Any],
    login: Callable[[Any], Client],
) -> None:
    brute_force(lims)
    dublin = make_user("dublin_security", "it_security", site=a_site("DUB"))
    assert numbers(login(dublin).get(ALERTS)) == []


def test_the_filters_take_the_alerts_own_values() -> None:
    assert (set(get_args(StateFilter)), set(get_args(LevelFilter)), set(get_args(SortKey))) == (
        {"open", "any", *AlertState.values}, set(LEVEL_ORDER), set(queries.ALERT_SORTS))


# --- one alert ---------------------------------------------------------------------------------


def test_the_detail_counts_the_events_kept_and_lists_the_steps(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    body = login(personas["qa_manager"]).get(f"{ALERTS}/{alert.pk}").json()
    assert (body["events"], body["explanation"], body["techniques"],
            [(a["action"], a["reason_required"], a["refusal"]) for a in body["actions"]]) == (
        10, None, ["T1110.001"],
        [("acknowledge", False, None), ("investigate", False, None), ("resolve", True, None),
         ("false_positive", True, None)])


def test_the_detail_names_the_incident_and_deviation_the_alert_led_to_cyb_05(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    from cyberqms.quality.deviations.tests.factories import ready_to_sign

    alert = brute_force(lims)
    incident = assessed(incident_from_alert(alert, actor=personas["it_security"]), personas)
    ready_to_sign(personas["qa_manager"], personas["admin"])
    deviation = incident_open_deviation(incident, actor=personas["it_security"],
                                        owner=personas["author"])
    body = login(personas["qa_manager"]).get(f"{ALERTS}/{alert.pk}").json()
    assert ([(r["number"], r["url"]) for r in body["incidents"]],
            [(r["number"], r["url"]) for r in body["deviations"]]) == (
        [(incident.number, f"/incidents/{incident.pk}/")],
        [(deviation.number, f"/deviations/{deviation.pk}/")])


def test_an_alert_of_another_site_answers_like_a_missing_one(
    lims: EventSource, personas: dict[str, Any], make_user: Callable[..., Any],
    login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    dublin = make_user("dublin_security", "it_security", site=a_site("DUB"))
    assert problem(login(dublin).get(f"{ALERTS}/{alert.pk}"), 404)["detail"] == (
        "No such resource, or it is not visible to you.")


# --- lifecycle steps and assignment ------------------------------------------------------------


def test_a_step_goes_through_the_alert_service_a11d_04(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    response = post(login(personas["it_security"]),
                    f"{ALERTS}/{alert.pk}/transitions/acknowledge", {})
    assert (response.status_code, response.json()["state"],
            Alert.objects.get(pk=alert.pk).acknowledged_at is not None) == (
        200, "acknowledged", True)


def test_resolving_without_a_reason_is_refused_naming_it(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    body = problem(post(login(personas["it_security"]),
                        f"{ALERTS}/{alert.pk}/transitions/resolve", {"reason": " "}), 422)
    assert body["errors"] == [{"field": "reason", "message": "A reason is required."}]


def test_a_step_not_open_from_the_state_is_409_with_the_steps_that_are(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    body = problem(post(login(personas["it_security"]),
                        f"{ALERTS}/{alert.pk}/transitions/reopen", {"reason": "x"}), 409)
    assert body["allowed_actions"] == ["acknowledge", "investigate", "resolve",
                                       "false_positive"]


def test_an_auditor_takes_no_step(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    problem(post(login(personas["auditor"]), f"{ALERTS}/{alert.pk}/transitions/acknowledge",
                 {}), 403)
    assert Alert.objects.get(pk=alert.pk).state == "new"


def test_assigning_over_the_api_names_the_assignee(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    response = post(login(personas["qa_manager"]), f"{ALERTS}/{alert.pk}/assign",
                    {"assignee": "it_security"})
    assert (response.status_code, response.json()["assignee"]) == (
        200, {"username": "it_security", "name": "It Security"})


def test_assigning_someone_who_may_not_work_alerts_is_422_naming_assignee(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    body = problem(post(login(personas["qa_manager"]), f"{ALERTS}/{alert.pk}/assign",
                        {"assignee": "auditor"}), 422)
    assert body["errors"] == [{"field": "assignee", "message": (
        "Auditor may not work on security alerts at BSL: choose someone who can.")}]


def test_assigning_a_closed_alert_is_409(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    services.alert_transition(alert, "resolve", actor=personas["it_security"],
                              reason="Password typo, confirmed by phone.")
    problem(post(login(personas["qa_manager"]), f"{ALERTS}/{alert.pk}/assign",
                 {"assignee": "it_security"}), 409)
    assert Alert.objects.get(pk=alert.pk).assignee is None


def test_an_unknown_key_in_the_body_is_named(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = brute_force(lims)
    body = problem(post(login(personas["qa_manager"]), f"{ALERTS}/{alert.pk}/assign",
                        {"assignee": "it_security", "owner": "x"}), 422)
    assert [e["field"] for e in body["errors"]] == ["owner"]
