"""The chain page (CYB-05, AL-10): alert → incident → deviation → CAPA → change on one page,
each node linking to its record and each record linking back to the chain; only what the
viewer may see; the loop timed from the first event to the last closure."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cyberqms.platform.kit.record_parts import link_create
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.capa.services import capa_create
from cyberqms.quality.changes.enums import ChangeState
from cyberqms.quality.changes.tests.factories import change_in
from cyberqms.quality.deviations.tests.factories import a_site
from cyberqms.security.incidents import queries, services
from cyberqms.security.incidents.models import Incident
from cyberqms.security.incidents.tests.test_incidents import assessed
from cyberqms.security.monitoring.models import Alert

pytestmark = pytest.mark.django_db


def _chain(people: dict[str, Any], alert: Alert) -> dict[str, Any]:
    """alert → incident → deviation → CAPA → change (implemented), built by the services."""
    security = people["it_security"]
    incident = assessed(services.incident_from_alert(alert, actor=security), people)
    deviation = services.incident_open_deviation(incident, actor=security,
                                                 owner=people["author"])
    capa = capa_create(actor=people["author"], site=deviation.site, title="Lock out brute force",
                       owner=people["process_owner"], source="deviation",
                       source_reference=deviation.number,
                       due_date=timezone.localdate() + dt.timedelta(days=30))
    change = change_in(ChangeState.REVIEW, people, where=deviation.site,
                       title="Account lockout on the LIMS")
    link_create(capa, change, actor=people["author"], relation="implements")
    return {"alert": alert, "incident": incident, "deviation": deviation, "capa": capa,
            "change": change}


def numbers(chain: queries.Chain) -> dict[str, list[str]]:
    return {stage: [n.number for n in nodes] for stage, nodes in chain.stages.items()}


def test_the_chain_runs_from_the_alert_to_the_change_cyb_05_al_10(
    people: dict[str, Any], alert: Alert
) -> None:
    r = _chain(people, alert)
    chain = queries.chain_of(r["incident"], people["qa_manager"])
    assert numbers(chain) == {
        "alert": [alert.number], "incident": [r["incident"].number],
        "deviation": [r["deviation"].number], "capa": [r["capa"].number],
        "change": [r["change"].number],
    }
    by_number = {n.number: n for n in chain.nodes}
    parents = {number: [p.number for p in node.parents] for number, node in by_number.items()}
    assert parents == {
        alert.number: [], r["incident"].number: [alert.number],
        r["deviation"].number: [r["incident"].number],
        r["capa"].number: [r["deviation"].number], r["change"].number: [r["capa"].number],
    }
    implemented = AuditEntry.objects.get(
        object_type="changes.change", object_id=str(r["change"].pk),
        action="changes.change.complete_implementation").at
    change_node = by_number[r["change"].number]
    assert (change_node.date("Implemented"), change_node.state, change_node.owner) == (
        implemented, "review", people["author"].printed_name)
    capa_node = by_number[r["capa"].number]
    assert (capa_node.date("Due"), capa_node.owner, capa_node.url) == (
        r["capa"].due_date, people["process_owner"].printed_name, f"/capa/{r['capa'].pk}/")
    # the loop, step by step, each timed from the one before
    steps = {s.key: s for s in chain.loop}
    assert [s.key for s in chain.loop] == ["seen", "detected", "escalated", "deviation", "capa",
                                           "implemented", "closed"]
    assert (steps["seen"].at, steps["detected"].at) == (alert.first_seen, alert.created_at)
    assert steps["escalated"].elapsed == r["incident"].created_at - alert.created_at
    assert steps["deviation"].elapsed == r["deviation"].created_at - r["incident"].created_at
    assert steps["capa"].elapsed == r["capa"].created_at - r["deviation"].created_at
    assert steps["implemented"].at == implemented
    assert (steps["closed"].at, chain.closed_at) == (None, None)  # nothing is closed yet


def test_every_member_links_to_the_chain_and_the_chain_to_every_member_cyb_05(
    people: dict[str, Any], alert: Alert, login: Any
) -> None:
    r = _chain(people, alert)
    client = login(people["qa_manager"])
    chain_url = reverse("incidents:chain", args=[r["incident"].pk])
    page = client.get(chain_url)
    assert page.status_code == 200
    html = page.content.decode()
    shown = re.findall(r'data-stage="(\w+)" data-number="([\w-]+)"', html)
    assert shown == [("alert", alert.number), ("incident", r["incident"].number),
                     ("deviation", r["deviation"].number), ("capa", r["capa"].number),
                     ("change", r["change"].number)]
    for url in (f"/monitoring/alerts/{alert.pk}/", f"/incidents/{r['incident'].pk}/",
                f"/deviations/{r['deviation'].pk}/", f"/capa/{r['capa'].pk}/",
                f"/changes/{r['change'].pk}/"):
        assert f'<a class="mono" href="{url}">' in html, url  # chain → record
        record_page = client.get(url).content.decode()
        assert re.search(rf'href="{chain_url}" data-testid="chain-link"', record_page), url
    assert 'data-testid="elapsed-escalated">+' in html
    assert "Open for <strong>" in html


def test_the_chain_shows_only_what_the_viewer_may_see_al_10(
    people: dict[str, Any], alert: Alert, login: Any, make_user: Any
) -> None:
    r = _chain(people, alert)
    # a CAPA at another site, linked to the deviation, with a change hanging from it
    other = a_site("DUB")
    elsewhere = capa_create(actor=people["author"], site=other, title="Harden DUB jump host",
                            owner=people["author"], source="deviation",
                            source_reference=r["deviation"].number)
    far_change = change_in(ChangeState.DRAFT, people, where=other, title="Jump host MFA")
    link_create(elsewhere, far_change, actor=people["author"], relation="implements")
    everything = queries.chain_of(r["incident"], people["qa_manager"])
    assert numbers(everything)["capa"] == [r["capa"].number, elsewhere.number]
    assert numbers(everything)["change"] == [r["change"].number, far_change.number]
    basel_reviewer = make_user("basel_reviewer", "qa_reviewer", site=r["incident"].site)
    seen = queries.chain_of(r["incident"], basel_reviewer)
    assert numbers(seen)["capa"] == [r["capa"].number]
    assert numbers(seen)["change"] == [r["change"].number]
    assert queries.chains_containing(elsewhere, basel_reviewer) == []
    assert queries.chains_containing(far_change, people["qa_manager"]) == [r["incident"]]
    html = login(basel_reviewer).get(
        reverse("incidents:chain", args=[r["incident"].pk])).content.decode()
    assert (elsewhere.number in html, far_change.number in html) == (False, False)
    # authors do not see incidents: no chain page, and no chain link on their deviation page
    author = login(people["author"])
    assert author.get(reverse("incidents:chain", args=[r["incident"].pk])).status_code == 403
    assert 'data-testid="chain-link"' not in author.get(
        f"/deviations/{r['deviation'].pk}/").content.decode()
    # a DUB-only reviewer may not see the incident: the same 404 as a missing one
    dub_reviewer = make_user("dub_reviewer", "qa_reviewer", site=other)
    assert login(dub_reviewer).get(
        reverse("incidents:chain", args=[r["incident"].pk])).status_code == 404


def test_a_record_outside_any_chain_has_no_chain_link(
    people: dict[str, Any], login: Any
) -> None:
    change = change_in(ChangeState.DRAFT, people, where=a_site("BSL"))
    assert queries.chains_containing(change, people["qa_manager"]) == []
    page = login(people["qa_manager"]).get(f"/changes/{change.pk}/").content.decode()
    assert 'data-testid="chain-link"' not in page


def test_the_chain_costs_the_same_queries_whatever_its_size(
    people: dict[str, Any], alert: Alert, django_assert_num_queries: Any
) -> None:
    r = _chain(people, alert)
    viewer = people["qa_manager"]
    incident = Incident.objects.select_related("owner").get(pk=r["incident"].pk)
    queries.chain_of(incident, viewer)  # the viewer's roles are read once per request
    # alerts, three stages × (links + records), the changes' implementation times
    with django_assert_num_queries(8):
        small = queries.chain_of(incident, viewer)
    for n in range(3):
        capa = capa_create(actor=people["author"], site=r["deviation"].site, title=f"More {n}",
                           owner=people["author"], source="deviation",
                           source_reference=r["deviation"].number)
        link_create(capa, change_in(ChangeState.DRAFT, people, where=capa.site),
                    actor=people["author"], relation="implements")
    with django_assert_num_queries(8):
        big = queries.chain_of(incident, viewer)
    assert (len(small.nodes), len(big.nodes)) == (5, 11)


def test_the_loop_closes_when_every_record_is_closed_cyb_05(
    people: dict[str, Any], alert: Alert
) -> None:
    r = _chain(people, alert)
    now = r["change"].created_at + dt.timedelta(days=9)
    closing = {"incident": now - dt.timedelta(days=3), "deviation": now - dt.timedelta(days=2),
               "capa": now, "change": now - dt.timedelta(days=1)}
    for key, at in closing.items():
        type(r[key]).objects.filter(pk=r[key].pk).update(state="closed", closed_at=at)
    chain = queries.chain_of(Incident.objects.get(pk=r["incident"].pk), people["qa_manager"])
    assert chain.closed_at == now
    assert chain.total == now - alert.first_seen
    assert chain.loop[-1].at == now


@pytest.mark.parametrize(("seconds", "shown"), [
    (4, "4 s"), (65, "1 min 5 s"), (120, "2 min"), (3 * 3600 + 600, "3 h 10 min"),
    (2 * 86400 + 4 * 3600 + 59, "2 d 4 h"), (-30, "−30 s"),
])
def test_elapsed_times_read_as_people_say_them(seconds: int, shown: str) -> None:
    assert queries.format_elapsed(dt.timedelta(seconds=seconds)) == shown
