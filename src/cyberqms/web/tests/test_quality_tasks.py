"""The home page lists the quality records a user can move on now (P11-11: the same
decision as the record's page, so an originator is never offered their own approval)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cyberqms.platform.kit.record_parts import extension_request
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import copies, record_in_state
from cyberqms.quality.capa.models import Capa, CapaAction
from cyberqms.quality.capa.services import capa_action_add
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state, ready_to_sign
from cyberqms.security.incidents.models import Incident
from cyberqms.web.tasks_list import open_tasks, quality_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    for name in ("qa_manager", "qa_approver"):
        ready_to_sign(personas[name], personas["admin"])
    return personas


def titles(user: Any) -> list[str]:
    return [t.title for t in quality_tasks(user)]


def test_each_person_sees_the_steps_open_to_them(people: dict[str, Any]) -> None:
    site = a_site()
    draft = deviation_in_state(people, "draft", site=site)
    review = deviation_in_state(people, "qa_review", site=site)
    assert titles(people["author"]) == [f"{draft.number}: Submit to QA"]
    assert titles(people["qa_manager"]) == [f"{review.number}: Return to investigation, Approve"]
    # the author originated the deviation in review: its approval is not offered
    assert titles(people["auditor"]) == []


def test_overdue_records_come_first_and_extensions_wait_for_someone_else(
    people: dict[str, Any],
) -> None:
    site = a_site()
    later = deviation_in_state(people, "draft", site=site)
    late = deviation_in_state(people, "draft", site=site)
    type(late).objects.filter(pk=late.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=2)
    )
    tasks = quality_tasks(people["author"])
    assert [(t.title, t.priority) for t in tasks] == [
        (f"{late.number}: Submit to QA", "high"), (f"{later.number}: Submit to QA", "medium"),
    ]
    extension_request(later, actor=people["author"],
                      requested_due=timezone.localdate() + dt.timedelta(days=90),
                      justification="Waiting for the supplier's report")
    assert f"Decide the extension of {later.number}" in titles(people["process_owner"])
    assert f"Decide the extension of {later.number}" not in titles(people["author"])


def test_home_page_shows_the_tasks(people: dict[str, Any], login: Any) -> None:
    draft = deviation_in_state(people, "draft", site=a_site())
    page = login(people["author"]).get("/").content.decode()
    assert f"{draft.number}: Submit to QA" in page


def test_a_step_waiting_on_a_check_the_user_can_resolve_is_listed_with_what_comes_first(
    people: dict[str, Any],
) -> None:
    """An unclassified deviation waits for QA's triage: the task says to classify first."""
    opened = deviation_in_state(people, "open", site=a_site())
    type(opened).objects.filter(pk=opened.pk).update(classification="")
    [task] = quality_tasks(people["qa_manager"])
    assert (task.title, task.first) == (
        f"{opened.number}: Triage: start investigation",
        "Classify the deviation (minor, major or critical) before triage.",
    )


def test_a_step_barred_by_segregation_of_duties_is_not_a_task(people: dict[str, Any]) -> None:
    """A QA manager who originated an open deviation may not triage it (P11-11): no task,
    although she holds the right and could classify it."""
    opened = deviation_in_state(people, "open", site=a_site())
    type(opened).objects.filter(pk=opened.pk).update(
        classification="", originator=people["qa_manager"])
    assert titles(people["qa_manager"]) == []


def test_home_page_shows_what_must_be_done_first(people: dict[str, Any], login: Any) -> None:
    opened = deviation_in_state(people, "open", site=a_site())
    type(opened).objects.filter(pk=opened.pk).update(classification="")
    page = login(people["qa_manager"]).get("/").content.decode()
    assert ("<strong>First:</strong> Classify the deviation (minor, major or critical) "
            "before triage.") in page


def queries_for(user: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        quality_tasks(user)
    return len(captured.captured_queries)


def test_the_queries_do_not_grow_with_the_tasks(people: dict[str, Any]) -> None:
    """Issue 14: one query per family (plus its extensions), whether one record waits for
    QA or fifty; records that hold no step for her are not read."""
    site = a_site()
    review = deviation_in_state(people, "qa_review", site=site)
    manager = people["qa_manager"]
    quality_tasks(manager)  # her roles, looked up once per request, are known from here on
    with_one = queries_for(manager)
    copies(review, 49)
    copies(deviation_in_state(people, "draft", site=site), 20)  # the author's, not hers
    assert (len(titles(manager)), queries_for(manager)) == (50, with_one)


def test_every_task_is_listed_however_many(people: dict[str, Any]) -> None:
    """No cut: 160 deviations waiting for QA's approval are 160 tasks (it was 150)."""
    review = deviation_in_state(people, "qa_review", site=a_site())
    copies(review, 159)
    assert len(titles(people["qa_manager"])) == 160


def test_the_home_page_shows_25_tasks_and_offers_the_rest(
    people: dict[str, Any], login: Any,
) -> None:
    review = deviation_in_state(people, "qa_review", site=a_site())
    copies(review, 29)
    client = login(people["qa_manager"])
    total = len(open_tasks(people["qa_manager"]))  # the 30 and her others
    first = client.get("/").content.decode()
    assert (first.count('<div class="task">'), f"Show all {total} tasks" in first) == (25, True)
    every = client.get("/", {"tasks": "all"}).content.decode()
    assert (every.count('<div class="task">'), "Show all" in every) == (total, False)


def home_queries(client: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get("/", {"tasks": "all"})
    return len(captured.captured_queries)


def test_capas_whose_plan_waits_for_approval_cost_the_same_queries_for_1_and_50(
    people: dict[str, Any], login: Any,
) -> None:
    """Issue 14: the plan approval's guard reads each CAPA's actions; they come with the
    candidates, so a QA manager's home page costs as many queries for 50 CAPAs awaiting
    her approval as for one (it was one query more per CAPA)."""
    capa = record_in_state(kind_by_slug("capa"), "open", people, site=a_site())
    assert isinstance(capa, Capa)
    action = capa_action_add(capa, actor=people["author"], kind="corrective",
                             description="Door alarm escalates after 2 minutes",
                             owner=people["author"],
                             due_date=timezone.localdate() + dt.timedelta(days=30))
    client = login(people["qa_manager"])
    client.get("/")  # her roles and the session, looked up once, are known from here on
    with_one = home_queries(client)
    twins = copies(capa, 49)
    planned = []
    for twin in twins:
        action.pk, action.capa = None, twin
        planned.append(CapaAction(**{f.attname: getattr(action, f.attname)
                                     for f in CapaAction._meta.concrete_fields}))
    CapaAction.objects.bulk_create(planned)
    approvals = [t for t in quality_tasks(people["qa_manager"])
                 if t.title.endswith(": Approve plan, Return plan") and not t.first]
    # the record's page decides the same for the last of them, read on its own
    page = kind_by_slug("capa").workflow.available(
        Capa.objects.get(pk=twins[-1].pk), people["qa_manager"])
    assert (len(approvals), [(t.title, refusal) for t, refusal in page],
            home_queries(client)) == (
        50, [("Approve plan", None), ("Return plan", None), ("Cancel", None)], with_one)


def test_deviations_waiting_for_closure_cost_the_same_queries_for_1_and_50(
    people: dict[str, Any],
) -> None:
    """Issue 14: closing a deviation that requires a CAPA waits for the CAPA's link; the
    link is read with the candidates, not once per deviation."""
    approved = deviation_in_state(people, "approved", site=a_site())
    type(approved).objects.filter(pk=approved.pk).update(capa_required=True)
    manager = people["qa_manager"]
    quality_tasks(manager)
    with_one = queries_for(manager)
    copies(approved, 49)
    waiting = [t.first for t in quality_tasks(manager) if t.title.endswith(": Close")]
    assert (waiting, queries_for(manager)) == (
        ["A CAPA is required: spawn (or link as spawned) a CAPA before closing."] * 50,
        with_one,
    )


def test_changes_in_implementation_cost_the_owner_the_same_queries_for_1_and_50(
    people: dict[str, Any],
) -> None:
    """Issue 14: completing the implementation waits for the change's tasks; they are read
    with the candidates, not once per change."""
    change = record_in_state(kind_by_slug("changes"), "implementation", people, site=a_site())
    owner = people["author"]
    quality_tasks(owner)
    with_one = queries_for(owner)
    copies(change, 49)
    waiting = [t.first for t in quality_tasks(owner)
               if t.title.endswith(": Complete implementation")]
    assert (waiting, queries_for(owner)) == (
        ["At least one implementation task must be done."] * 50, with_one,
    )


def test_incidents_waiting_for_closure_cost_the_same_queries_for_1_and_50(
    people: dict[str, Any],
) -> None:
    """Issue 14: closing an incident with GxP impact waits for its deviation's link; the
    link is read with the candidates, not once per incident (QA may return it now)."""
    review = record_in_state(kind_by_slug("incidents"), "qa_review", people, site=a_site())
    Incident.objects.filter(pk=review.pk).update(gxp_impact=True)
    manager = people["qa_manager"]
    quality_tasks(manager)
    with_one = queries_for(manager)
    copies(review, 49)
    assert (titles(manager), queries_for(manager)) == (
        [f"{review.number}: Return to assessment"]
        + [f"{review.number}-{i:03d}: Return to assessment" for i in range(1, 50)],
        with_one,
    )
