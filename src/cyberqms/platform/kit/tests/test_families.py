"""Invariants of every record family on the kit, run for each registered family by itself:
every (state, action) pair of its workflow table, the list page and API list at the same
exact query count for 1 and 50 rows, the same filters on page and API, create and edit
through the pages, CSV export (P11-06 copies, P11-11 sequencing, A11-16 change control of
records)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cyberqms.platform.core.access import AccessDenied, can
from cyberqms.platform.kit import record_services
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import RecordKind, kind_by_slug
from cyberqms.platform.kit.workflow import TransitionNotAllowed

from .kit import (
    TAKERS,
    copies,
    creation_values,
    kit_families,
    maker,
    record_in_state,
    samples,
    taker,
)

pytestmark = pytest.mark.django_db

FAMILIES = [kind.slug for kind in kit_families()]
PAIRS = [
    (kind.slug, state, action)
    for kind in kit_families()
    for state in kind.workflow.states()
    for action in dict.fromkeys(t.action for t in kind.workflow.transitions)
]


def _noun(kind: RecordKind) -> str:
    return kind.type_name.rsplit(".", 1)[-1]


def _drafts(kind: RecordKind, people: dict[str, Any], site: Any, count: int) -> list[Any]:
    author = maker(kind, people)
    values = {**creation_values(kind, site=site, author=author), "owner": author}
    return [record_create(kind, actor=author, site=site,
                          values={**values, "title": f"{values['title']} {i}"})
            for i in range(count)]


@pytest.fixture
def site() -> Any:
    from cyberqms.platform.accounts.tests.factories import SiteFactory

    return SiteFactory.create(code="MUC", name="Site MUC")


@pytest.mark.parametrize(("slug", "state", "action"), PAIRS)
def test_every_state_action_pair(slug: str, state: str, action: str,
                                 personas: dict[str, Any]) -> None:
    """The table decides: a declared step moves the record to its target; any other
    answers 409 naming the steps allowed from there."""
    kind = kind_by_slug(slug)
    record = record_in_state(kind, state, personas)
    t = kind.workflow.transition(action, state)
    if t is None:
        # Asked by someone who may take the step elsewhere in the table: a 409 naming the
        # steps allowed here. (Someone who may never take it gets a 403: the next test.)
        permission = next(u.permission for u in kind.workflow.transitions if u.action == action)
        holder = next(personas[name] for name in TAKERS
                      if can(personas[name], permission, record))
        with pytest.raises(TransitionNotAllowed) as refused:
            kind.workflow.run(record, action, actor=holder, reason="kit")
        assert (refused.value.state, list(refused.value.allowed)) == (
            state, [u.action for u in kind.workflow.actions_from(state)])
        return
    from .kit import ready, ready_to_sign, signature

    ready(kind, record, action, personas)
    actor = ready_to_sign(taker(kind, record, t, personas), personas["admin"])
    kind.workflow.run(record, action, actor=actor, reason="kit" if t.reason else "",
                      signature=signature(actor) if t.sign else None)
    record.refresh_from_db()
    from cyberqms.platform.trail.models import AuditEntry

    last = AuditEntry.objects.filter(object_type=kind.type_name,
                                     object_id=str(record.pk)).order_by("-seq").first()
    assert (record.state, last.action if last else None) == (
        t.target, f"{kind.type_name}.{action}")


@pytest.mark.parametrize("slug", FAMILIES)
def test_a_step_asked_by_someone_who_may_never_take_it_is_refused_before_the_state(
        slug: str, personas: dict[str, Any]) -> None:
    """403 before 409: the auditor asking for a signed step (closing, approving) that is
    not open from the record's state (its first, where the table allows; a closed state
    where every open state has its signed steps open, an access finding's) learns nothing
    of its state."""
    kind = kind_by_slug(slug)
    state, later = next(
        (state, t.action) for closed in (False, True) for state in kind.workflow.states()
        for t in reversed(kind.workflow.transitions)
        if t.sign and not t.system and state not in t.sources
        and (state in kind.closed_states) == closed)
    record = record_in_state(kind, state, personas)
    with pytest.raises(AccessDenied):
        kind.workflow.run(record, later, actor=personas["auditor"], reason="kit")


def _page_queries(client: Any, url: str) -> tuple[int, int]:
    client.get(url)  # the session's first request loads what later ones find cached
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response.status_code, len(queries)


@pytest.mark.parametrize("slug", FAMILIES)
def test_list_page_costs_the_same_queries_for_1_and_50_rows(
        slug: str, personas: dict[str, Any], login: Any, site: Any) -> None:
    kind = kind_by_slug(slug)
    client = login(personas["qa_approver"])
    [first] = _drafts(kind, personas, site, 1)
    one = _page_queries(client, reverse(f"{slug}:list"))
    copies(first, 49)
    fifty = _page_queries(client, reverse(f"{slug}:list"))
    wanted = samples(kind).QUERIES["page"]
    assert (one, fifty) == ((200, wanted), (200, wanted))


@pytest.mark.parametrize("slug", FAMILIES)
def test_api_list_costs_the_same_queries_for_1_and_50_rows(
        slug: str, personas: dict[str, Any], login: Any, site: Any) -> None:
    kind = kind_by_slug(slug)
    client = login(personas["qa_approver"])
    url = reverse(f"api:{_noun(kind)}_list")
    [first] = _drafts(kind, personas, site, 1)
    one = _page_queries(client, url)
    copies(first, 49)
    fifty = _page_queries(client, url)
    wanted = samples(kind).QUERIES["api"]
    assert (one, fifty) == ((200, wanted), (200, wanted))


@pytest.mark.parametrize("slug", FAMILIES)
def test_page_and_api_filter_alike(slug: str, personas: dict[str, Any], login: Any,
                                   site: Any, make_user: Any) -> None:
    kind = kind_by_slug(slug)
    mine, theirs = _drafts(kind, personas, site, 2)
    from cyberqms.conftest import PERSONAS
    from cyberqms.platform.kit.record_services import record_update

    author = maker(kind, personas)
    colleague = make_user("colleague", PERSONAS[author.username])
    record_update(theirs, actor=author, changes={"owner": colleague})
    client = login(author)
    page = client.get(reverse(f"{slug}:list"), {"mine": "true"})
    api = client.get(reverse(f"api:{_noun(kind)}_list"), {"mine": "true"})
    assert [r.number for r, _cells, _badges in page.context["rows"]] == [mine.number]
    assert [r["number"] for r in api.json()["results"]] == [mine.number]


@pytest.mark.parametrize("slug", FAMILIES)
def test_a_filter_value_outside_the_vocabulary_is_refused_naming_the_filter(
        slug: str, personas: dict[str, Any], login: Any) -> None:
    kind = kind_by_slug(slug)
    client = login(maker(kind, personas))
    page = client.get(reverse(f"{slug}:list"), {"mine": "yes"})
    api = client.get(reverse(f"api:{_noun(kind)}_list"), {"mine": "yes"})
    assert (page.status_code, list(page.context["filters"].errors)) == (422, ["mine"])
    assert (api.status_code, api["Content-Type"],
            [e["field"] for e in api.json()["errors"]]) == (
        422, "application/problem+json", ["mine"])


@pytest.mark.parametrize("slug", FAMILIES)
def test_the_list_exports_as_csv_in_words(slug: str, personas: dict[str, Any], login: Any,
                                          site: Any) -> None:
    kind = kind_by_slug(slug)
    (record,) = _drafts(kind, personas, site, 1)
    response = login(personas["auditor"]).get(reverse(f"{slug}:list"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert response["Content-Disposition"] == f'attachment; filename="{slug}.csv"'
    assert rows[0] == [c.heading for c in kind.columns]
    assert rows[1][:2] == [record.number, record.title]
    assert rows[1][[c.name for c in kind.columns].index("state")] == \
        record.get_state_display()


@pytest.mark.parametrize("slug", FAMILIES)
def test_a_record_is_created_from_its_page(slug: str, personas: dict[str, Any], login: Any,
                                           site: Any) -> None:
    kind = kind_by_slug(slug)
    author = maker(kind, personas)
    values = creation_values(kind, site=site, author=author)
    form = {name: (value.strftime("%Y-%m-%dT%H:%M") if hasattr(value, "hour")
                   else value.pk if hasattr(value, "pk") else value)
            for name, value in values.items()}
    form.update(site=site.code, owner=author.pk)
    response = login(author).post(reverse(f"{slug}:create"), form)
    record = kind.model._default_manager.get()
    assert (response.status_code, response["Location"], record.state, record.title) == (
        302, kind.detail_url(record), kind.initial_state, values["title"])


@pytest.mark.parametrize("slug", [
    kind.slug for kind in kit_families()
    if any(state != kind.initial_state for state in kind.editable)])
def test_an_edit_after_the_first_state_needs_a_reason(
        slug: str, personas: dict[str, Any], login: Any) -> None:
    kind = kind_by_slug(slug)
    later = next(state for state in kind.workflow.states()
                 if state != kind.initial_state and kind.editable.get(state))
    record = record_in_state(kind, later, personas)
    client = login(record.owner)
    shown = client.get(kind.detail_url(record)).context["edit_form"]
    unchanged = {name: value for name, value in shown.initial.items()
                 if value not in (None, False)}
    response = client.post(reverse(f"{slug}:edit", args=[record.pk]), unchanged)
    assert (response.status_code, list(response.context["edit_form"].errors)) == (
        422, ["reason"])


@pytest.mark.parametrize("slug", FAMILIES)
def test_an_edit_of_a_version_changed_meanwhile_is_refused_409(
        slug: str, personas: dict[str, Any], login: Any, site: Any) -> None:
    """Two people edit the same draft: the second save, made on the version both saw, is
    refused rather than silently undoing the first."""
    kind = kind_by_slug(slug)
    (record,) = _drafts(kind, personas, site, 1)
    author = maker(kind, personas)
    client = login(author)
    shown = client.get(kind.detail_url(record)).context["edit_form"]
    stale = {name: value for name, value in shown.initial.items() if value not in (None, False)}
    from cyberqms.platform.kit.record_services import record_update

    record_update(record, actor=author, changes={"title": "Changed meanwhile"})
    response = client.post(reverse(f"{slug}:edit", args=[record.pk]),
                           {**stale, "title": "My stale edit"})
    record.refresh_from_db()
    assert (response.status_code, record.title) == (302, "Changed meanwhile")
    assert [str(m) for m in response.wsgi_request._messages] == [
        f"{record.number} was changed by someone else while you were editing it; reload it "
        "and decide again."]


@pytest.mark.parametrize("slug", FAMILIES)
def test_an_impossible_date_in_the_api_is_422_naming_the_field(
        slug: str, personas: dict[str, Any], login: Any, site: Any) -> None:
    kind = kind_by_slug(slug)
    (record,) = _drafts(kind, personas, site, 1)
    response = login(maker(kind, personas)).post(
        reverse(f"api:{_noun(kind)}_update", args=[record.pk]),
        {"changes": {"event_at": "2026-02-30T10:00:00Z"}}, content_type="application/json")
    assert (response.status_code, response.json()["errors"]) == (422, [
        {"field": "event_at", "message": "A date and time with its zone "
                                         "(e.g. 2026-03-01T10:00:00Z)."}])


@pytest.mark.parametrize("slug", FAMILIES)
def test_the_default_list_order_is_an_index(slug: str, personas: dict[str, Any]) -> None:
    """Issue 14: the list's default order (newest first) is read from an index, not sorted
    whole for each page, so a page costs the same at a million records as at a thousand."""
    from django.http import QueryDict

    from cyberqms.platform.core.keyset import sort_keys
    from cyberqms.platform.kit.family_pages import visible_records

    kind = kind_by_slug(slug)
    assert kind.filterset is not None
    rows = kind.filterset(QueryDict(), visible_records(kind, personas["qa_manager"])).qs
    assert [key.name for key in sort_keys(rows)] == ["-created_at", "-id"]
    assert ["-created_at", "-id"] in [list(i.fields) for i in kind.model._meta.indexes]
    if connection.vendor == "sqlite":
        plan = rows[:25].explain()
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


def _state_constraint(kind: RecordKind) -> Any:
    [constraint] = [c for c in kind.model._meta.constraints
                    if c.name == f"{_noun(kind)}_state_valid"]
    return constraint


def _a_draft(slug: str, people: dict[str, Any], site: Any) -> tuple[RecordKind, Any, Any]:
    """The family, one draft of it, and its state constraint."""
    kind = kind_by_slug(slug)
    [record] = _drafts(kind, people, site, 1)
    return kind, record, _state_constraint(kind)


@pytest.mark.parametrize("slug", FAMILIES)
def test_a_state_the_family_lacks_is_refused_by_validation_without_a_query(
    slug: str, personas: dict[str, Any], site: Any,
) -> None:
    kind, record, constraint = _a_draft(slug, personas, site)
    record.state = "shredded"
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError) as bad:
        constraint.validate(kind.model, record)
    assert (bad.value.messages, len(queries.captured_queries)) == (
        [f"Constraint “{_noun(kind)}_state_valid” is violated."], 0)


@pytest.mark.parametrize("slug", FAMILIES)
def test_the_state_constraint_stays_a_check_in_the_database(slug: str) -> None:
    kind = kind_by_slug(slug)
    path, _args, kwargs = _state_constraint(kind).deconstruct()
    assert (path, kwargs["condition"]) == (
        "django.db.models.CheckConstraint", Q(state__in=kind.model.STATES.values))


@pytest.mark.parametrize("slug", FAMILIES)
def test_a_valid_state_passes_and_an_excluded_one_is_not_checked_without_a_query(
    slug: str, personas: dict[str, Any], site: Any,
) -> None:
    kind, record, constraint = _a_draft(slug, personas, site)
    with CaptureQueriesContext(connection) as queries:
        constraint.validate(kind.model, record)
        record.state = "shredded"
        constraint.validate(kind.model, record, exclude={"state"})
    assert queries.captured_queries == []


@pytest.mark.parametrize("slug", FAMILIES)
def test_a_create_does_not_read_again_the_site_and_people_it_holds(
    slug: str, personas: dict[str, Any], site: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    kind = kind_by_slug(slug)
    _drafts(kind, personas, site, 1)  # the first reads the roles and starts the numbers
    with CaptureQueriesContext(connection) as held:
        _drafts(kind, personas, site, 1)
    monkeypatch.setattr(record_services, "_loaded_references", lambda record: [])
    with CaptureQueriesContext(connection) as read_again:
        _drafts(kind, personas, site, 1)
    # the site, the owner and the originator (one person here: the author owns it), and each
    # other record the sample names (the system a periodic evaluation is of)
    named = [v for n, v in creation_values(kind, site=site, author=maker(kind, personas))
             .items() if n != "owner" and hasattr(v, "pk")]
    assert len(read_again.captured_queries) - len(held.captured_queries) == 3 + len(named)


@pytest.mark.parametrize("slug", FAMILIES)
def test_an_owner_given_by_a_missing_id_is_still_refused(
    slug: str, personas: dict[str, Any], site: Any,
) -> None:
    [record] = _drafts(kind_by_slug(slug), personas, site, 1)
    record.owner_id = 987_654
    with pytest.raises(ValidationError) as bad:
        record_services._validate(record, [])
    assert bad.value.message_dict["owner"] == ["user instance with id 987654 is not a valid choice."]


def test_the_list_prints_as_pdf_in_words_and_is_recorded(
        personas: dict[str, Any], login: Any, site: Any) -> None:
    """Every family's list prints as PDF from the columns its CSV test checks (the same
    `csv_columns`): one family stands for all, as WeasyPrint's layout is the slow part."""
    from pypdf import PdfReader

    from cyberqms.platform.trail.models import AuditEntry

    slug = "systems"
    kind = kind_by_slug(slug)
    (record,) = _drafts(kind, personas, site, 1)
    response = login(personas["auditor"]).get(reverse(f"{slug}:list"), {"format": "pdf"})
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(
        response.content)).pages)
    entry = AuditEntry.objects.get(action="list.export.create")
    assert (response["Content-Type"], response["Content-Disposition"]) == (
        "application/pdf", f'attachment; filename="{slug}.pdf"')
    assert record.number in text
    assert record.get_state_display() in text
    assert (entry.changes["format"], entry.changes["rows"]) == ([None, "pdf"], [None, 1])
