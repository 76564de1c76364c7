"""Alert pages in words (A11D-04): the rule by its title, what an alert is grouped on by
field names people use, the true number of events, the behaviour baseline's explanation as
a table, no requirement ids, and only links the viewer may follow."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cyberqms.quality.deviations.tests.factories import a_site
from cyberqms.security.detect.baseline import USER_RULE
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.models import Alert, EventSource
from cyberqms.security.monitoring.tests.test_baseline import MONDAY, by_rule, event, learned

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
REQUIREMENT_ID = re.compile(r"\b(?:P11|A11D?|CYB|AL|DI|IT)-\d\d\b")


@pytest.fixture(autouse=True)
def fresh_engine() -> None:
    services.reload_rules()


@pytest.fixture
def lims(personas: dict[str, Any]) -> EventSource:
    return services.source_create(
        actor=personas["it_security"], name="LIMS BSL", kind="lims", system="LabWare LIMS",
        format="syslog", site=a_site("BSL"),
    )


def failed_logins(source: EventSource, n: int = 10) -> Alert:
    lines = [
        f"<38>1 {(T0 + timedelta(seconds=5 * i)).strftime('%Y-%m-%dT%H:%M:%S')}Z lims01 "
        "sshd 4242 - - Failed password for qc_analyst from 10.20.0.7 port 22 ssh2"
        for i in range(n)
    ]
    [alert] = services.ingest(source, lines, channel="syslog-tcp", received_at=T0).alerts
    return Alert.objects.get(pk=alert.pk)


def page(client: Client, alert: Alert) -> str:
    return client.get(reverse("monitoring:alert", args=[alert.pk])).text


def test_the_alert_page_names_the_rule_by_its_title_a11d_04(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = failed_logins(lims)
    text = page(login(personas["it_security"]), alert)
    assert ('data-testid="alert-rule">Brute force against one account</dd>' in text,
            alert.rule_id in text) == (True, False)


def test_the_alert_page_says_what_the_alert_is_grouped_on_in_words(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = failed_logins(lims)
    text = page(login(personas["it_security"]), alert)
    assert ('data-testid="alert-grouped-on">Account <strong class="mono">qc_analyst</strong>'
            ' · Source address <strong class="mono">10.20.0.7</strong></dd>') in text


def test_the_alert_list_says_what_each_alert_is_grouped_on_in_words(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    failed_logins(lims)
    text = login(personas["it_security"]).get(reverse("monitoring:alerts")).text
    assert ('<small class="sub">Account qc_analyst · Source address 10.20.0.7</small>' in text,
            "actor.user.name" in text) == (True, False)


def test_an_alert_of_two_windows_counts_all_its_events_a11d_04(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = failed_logins(lims, 20)
    text = page(login(personas["it_security"]), alert)
    assert (alert.count, alert.summary) == (
        20, "Failed password for qc_analyst from 10.20.0.7 port 22 ssh2")
    assert ("<dd>20 matched · 20 kept with the alert</dd>" in text, "10 events" in text) == (
        True, False)


def test_no_requirement_ids_on_monitoring_pages(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = failed_logins(lims)
    client = login(personas["it_security"])
    urls = [reverse("monitoring:overview"), reverse("monitoring:alerts"),
            reverse("monitoring:alert", args=[alert.pk]), reverse("monitoring:events"),
            reverse("monitoring:sources")]
    found = {url: REQUIREMENT_ID.findall(client.get(url).text) for url in urls}
    assert found == {url: [] for url in urls}


def test_the_qa_manager_is_offered_no_link_to_received_events(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    failed_logins(lims)
    alerts = reverse("monitoring:alerts")
    shown = {name: reverse("monitoring:events") in login(personas[name]).get(alerts).text
             for name in ("qa_manager", "it_security")}
    assert shown == {"qa_manager": False, "it_security": True}


def test_every_link_of_the_monitoring_pages_opens_for_the_qa_manager(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    """The QA manager sees alerts but not received events: no link leads to a 403."""
    from cyberqms.security.incidents.services import incident_from_alert

    alert = failed_logins(lims)
    incident = incident_from_alert(alert, actor=personas["it_security"])
    client = login(personas["qa_manager"])
    pages = [reverse("monitoring:overview"), reverse("monitoring:alerts"),
             reverse("monitoring:alert", args=[alert.pk]),
             reverse("incidents:chain", args=[incident.pk])]
    links = {href for url in pages
             for href in re.findall(r'href="(/(?:monitoring|incidents)/[^"#]*)"',
                                    client.get(url).text)}
    refused = sorted(href for href in links
                     if client.get(href.replace("&amp;", "&")).status_code == 403)
    assert (len(links) > 5, refused) == (True, [])


# --- the behaviour baseline's explanation --------------------------------------------------


def anomaly(personas: dict[str, Any]) -> Alert:
    """An alert as ingest raises it for a baseline Match: ana at 03:12 from a VPN client."""
    night = MONDAY + timedelta(days=15, hours=3, minutes=12)
    match = by_rule(learned().observe(
        event("ana", night, host="VPN-CLIENT", code="RESULT_MODIFY", type_uid=600303)),
    )[USER_RULE.id]
    return Alert.objects.create(
        number="ALERT-2026-0042", rule_id=USER_RULE.id, title=USER_RULE.title, level="medium",
        group_key="actor.user.name=ana", site=a_site("BSL"), first_seen=night,
        last_seen=night, created_at=night, context=dict(match.context or {}),
    )


def test_the_baselines_explanation_is_a_table_of_features_in_words_cyb_04(
    personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = anomaly(personas)
    response = login(personas["it_security"]).get(reverse("monitoring:alert", args=[alert.pk]))
    rows = [(f.label, f.value, f.usual) for f in response.context["explanation"].features]
    words = {
        "hour": ("Hour of day (site time)", "03", "08–16"),
        "host": ("Source host", "VPN-CLIENT", "LAB-WS-00"),
        "action": ("Action", "API Activity: Update · result · RESULT_MODIFY",
                   "API Activity: Create · result · RESULT_ENTER, API Activity: Read · "
                   "result · RESULT_REVIEW, API Activity: Read · sample · RECORD_VIEW "
                   "(+1 more)"),
    }
    # in the order of their share of the score, largest first
    assert rows == [words[f["feature"]] for f in alert.context["features"]]


def test_each_feature_shows_its_share_of_the_score(
    personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = anomaly(personas)
    text = login(personas["it_security"]).get(reverse("monitoring:alert", args=[alert.pk])).text
    for feature in alert.context["features"]:
        share = f"{round(feature['contribution'] * 100)} %"
        assert re.search(rf'<tr data-feature="{feature["feature"]}">.*?<td class="num">'
                         rf'{share}</td></tr>', text), feature["feature"]


def test_the_explanation_names_the_subject_score_and_threshold(
    personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = anomaly(personas)
    text = login(personas["it_security"]).get(reverse("monitoring:alert", args=[alert.pk])).text
    score = f"{alert.context['score']:.1f}"
    assert (f"What set the account ana apart from the usual: a score of {score} bits against "
            "a threshold of 10.0") in text


def test_the_explanation_is_not_raw_json(
    personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = anomaly(personas)
    text = login(personas["it_security"]).get(reverse("monitoring:alert", args=[alert.pk])).text
    assert ('"contribution"' in text, "'contribution'" in text) == (False, False)


def test_a_rule_alert_has_no_baseline_explanation(
    lims: EventSource, personas: dict[str, Any], login: Callable[[Any], Client],
) -> None:
    alert = failed_logins(lims)
    response = login(personas["it_security"]).get(reverse("monitoring:alert", args=[alert.pk]))
    assert (response.context["explanation"], 'data-testid="alert-explanation"' in response.text
            ) == (None, False)
