"""A computerized system's user list (issue 17, item 3: campaigns per system): imported as
CSV with a dry run, matched to people, applied whole or not at all with each account's
change audited, and the last sign-in taken from the list or from monitoring's events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyberqms.assets.systems.models import System
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import record_in_state
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations.tests.factories import a_site
from cyberqms.security.access.models import SystemAccount
from cyberqms.security.access.system_accounts import accounts_import, last_sign_ins, plan

pytestmark = pytest.mark.django_db
HEADER = "account,privilege,person,name,privileged,last_login,enabled\n"


@pytest.fixture
def lims(personas: dict[str, Any]) -> System:
    system = record_in_state(kind_by_slug("systems"), "planned", personas, site=a_site("BSL"),
                             owner=personas["system_owner"], title="LabWare LIMS")
    assert isinstance(system, System)
    return system


def load(system: System, actor: Any, text: str, *, apply: bool = True) -> Any:
    return accounts_import(system, text, actor=actor, reason="Export of 2026-12-07",
                           apply=apply)


def test_a_dry_run_says_what_each_row_would_do_and_changes_nothing(
        lims: System, personas: dict[str, Any]) -> None:
    result = load(lims, personas["system_owner"],
                  HEADER + "author,Analyst,,,no,2026-11-30,\nlab_admin,Administrator,,,yes,,\n",
                  apply=False)
    assert ([(p.row, p.account, p.action, p.person) for p in result.planned],
            result.unmatched, SystemAccount.objects.count()) == (
        [(2, "author", "create", "author"), (3, "lab_admin", "create", "")], 1, 0)


def test_applying_creates_each_account_matched_to_its_person(
        lims: System, personas: dict[str, Any]) -> None:
    load(lims, personas["system_owner"], HEADER + "AUTHOR,Analyst,,Ann Author,no,2026-11-30,\n")
    account = SystemAccount.objects.get()
    assert (account.account, account.person, account.privilege, account.privileged,
            account.listed_name, account.last_login_at) == (
        "AUTHOR", personas["author"], "Analyst", False, "Ann Author",
        dt.datetime(2026, 11, 30, tzinfo=dt.UTC))


def test_the_person_column_matches_an_e_mail(lims: System, personas: dict[str, Any]) -> None:
    personas["qa_approver"].email = "q.approver@example.com"
    personas["qa_approver"].save(update_fields=["email"])
    load(lims, personas["system_owner"], HEADER + "qa01,Reviewer,Q.Approver@example.com,,,,\n")
    assert SystemAccount.objects.get().person == personas["qa_approver"]


def test_each_new_account_is_audited_as_the_importers_with_the_reason(
        lims: System, personas: dict[str, Any]) -> None:
    load(lims, personas["system_owner"], HEADER + "author,Analyst,,,,,\n")
    entry = AuditEntry.objects.get(action="access.system_account.create")
    assert (entry.data["actor"]["username"], entry.data["reason"],
            entry.data["object"]["label"]) == (
        "system_owner", "Export of 2026-12-07", f"author in {lims.number}")


def test_an_account_missing_from_the_next_list_is_marked_removed(
        lims: System, personas: dict[str, Any]) -> None:
    owner = personas["system_owner"]
    load(lims, owner, HEADER + "author,Analyst,,,,,\nlab_admin,Administrator,,,yes,,\n")
    result = load(lims, owner, HEADER + "author,Analyst,,,,,\n")
    assert (result.counts, SystemAccount.objects.get(account="lab_admin").removed_at
            is not None) == ({"create": 0, "update": 0, "unchanged": 1, "remove": 1}, True)


def test_a_disabled_account_in_the_list_counts_as_removed(
        lims: System, personas: dict[str, Any]) -> None:
    owner = personas["system_owner"]
    load(lims, owner, HEADER + "author,Analyst,,,,,\n")
    result = load(lims, owner, HEADER + "author,Analyst,,,,,no\n")
    assert result.counts["remove"] == 1


def test_a_changed_privilege_is_an_update_naming_old_and_new(
        lims: System, personas: dict[str, Any]) -> None:
    owner = personas["system_owner"]
    load(lims, owner, HEADER + "author,Analyst,,,,,\n")
    result = load(lims, owner, HEADER + "author,Supervisor,,,,,\n")
    assert [(p.action, p.changes) for p in result.planned] == [
        ("update", {"privilege": ("Analyst", "Supervisor")})]


@pytest.mark.parametrize(("rows", "error"), [
    ("author,Analyst,,,,,\nAuthor,Analyst,,,,,\n", "line 3, account: Also on line 2."),
    ("author,,,,,,\n", "line 2, privilege: Required: the account's role or group in the "
                       "system."),
    ("x,Analyst,nobody-here,,,,\n", "line 2, person: No person 'nobody-here' in cyberqms "
                                    "(a username, e-mail or employee id; leave it empty for "
                                    "a shared account)."),
    ("x,Analyst,,,maybe,,\n", "line 2, privileged: yes or no."),
    ("x,Analyst,,,,31/12/2026,\n", "line 2, last_login: A date (2026-11-30) or date and "
                                   "time (2026-11-30T08:15:00Z)."),
    ("x,Analyst,,,,2999-01-01,\n", "line 2, last_login: In the future."),
    ("x,Analyst,,,,,,extra\n", "line 2: More cells than columns."),
])
def test_a_bad_row_is_named_and_nothing_changes(lims: System, personas: dict[str, Any],
                                                rows: str, error: str) -> None:
    result = load(lims, personas["system_owner"], HEADER + rows)
    assert ([str(e) for e in result.errors], result.applied,
            SystemAccount.objects.count()) == ([error], False, 0)


def test_a_header_without_the_privilege_column_is_refused(
        lims: System, personas: dict[str, Any]) -> None:
    result = load(lims, personas["system_owner"], "account,role\nx,Analyst\n")
    assert [str(e) for e in result.errors] == [
        "line 1, privilege: The header needs the privilege column.",
        "line 1, role: Unknown column (known: account, privilege, person, name, privileged, "
        "last_login, enabled)."]


def test_a_file_that_is_not_utf8_is_refused(lims: System, personas: dict[str, Any]) -> None:
    result = load(lims, personas["system_owner"], b"account,privilege\n\xff\xfe,x\n")
    assert [str(e) for e in result.errors] == ["line 0: The file is not UTF-8 text."]


def test_applying_without_a_reason_is_refused(lims: System, personas: dict[str, Any]) -> None:
    result = accounts_import(lims, HEADER + "author,Analyst,,,,,\n",
                             actor=personas["system_owner"], reason=" ", apply=True)
    assert ([str(e) for e in result.errors], SystemAccount.objects.count()) == (
        ["line 0, reason: Say why (the export, its date)."], 0)


def test_an_author_may_not_import_a_systems_accounts(
        lims: System, personas: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        load(lims, personas["author"], HEADER + "author,Analyst,,,,,\n")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=400), st.text(
    alphabet=st.sampled_from(list("ab,\"\n\r-:TZ01yesno ")), max_size=200).map(
    lambda t: HEADER + t)))
def test_any_input_gets_rows_or_errors_never_an_exception(lims: System, data: Any) -> None:
    result, rows = plan(lims, data)  # reads only: the fixture's system serves every example
    listed = [p.row for p in result.planned if p.row]
    assert (rows == [] and listed == []) if result.errors else (
        listed == [r["line"] for r in rows])


def test_the_last_sign_in_is_the_newest_of_the_list_and_the_systems_events(
        lims: System, personas: dict[str, Any]) -> None:
    from cyberqms.security.monitoring.models import EventSource, RawEvent

    load(lims, personas["system_owner"], HEADER + "author,Analyst,,,,2026-01-05,\n")
    source = EventSource.objects.create(name="lims-bsl", kind="lims", system="LabWare LIMS",
                                        site=lims.site, gxp_system=lims, format="jsonl",
                                        created_at=timezone.now())
    signed_in = timezone.now() - dt.timedelta(days=3)
    RawEvent.objects.create(source=source, received_at=signed_in, channel="http",
                            sha256="0" * 64, size=2, payload=b"{}", status="accepted",
                            class_uid=3002, actor="Author",
                            event={"class_uid": 3002, "status_id": 1})
    account = SystemAccount.objects.get()
    assert last_sign_ins(lims, [account]) == {account.pk: signed_in}


def test_the_accounts_page_lists_them_with_the_people(
        lims: System, personas: dict[str, Any], login: Any) -> None:
    load(lims, personas["system_owner"], HEADER + "author,Analyst,,,,,\nshared,Operator,,,,,\n")
    response = login(personas["qa_approver"]).get(
        reverse("governance:system_accounts", args=[lims.pk]))
    body = response.content.decode()
    assert (response.status_code, personas["author"].printed_name in body,
            body.count('<span class="badge warn">nobody</span>'),
            'data-testid="accounts-upload"' in body) == (200, True, 1, False)


def test_the_page_previews_then_applies_an_upload(
        lims: System, personas: dict[str, Any], login: Any) -> None:
    client = login(personas["system_owner"])
    url = reverse("governance:system_accounts", args=[lims.pk])
    preview = client.post(url, {"content": HEADER + "author,Analyst,,,,,\n"})
    applied = client.post(url, {"content": HEADER + "author,Analyst,,,,,\n", "apply": "yes",
                                "reason": "Export of today"})
    assert (preview.status_code, 'data-testid="accounts-preview"' in preview.content.decode(),
            applied.status_code, SystemAccount.objects.count()) == (200, True, 302, 1)


def test_the_accounts_page_reads_the_same_queries_for_one_account_and_many(
        lims: System, personas: dict[str, Any], login: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(personas["qa_manager"])
    url = reverse("governance:system_accounts", args=[lims.pk])
    load(lims, personas["system_owner"], HEADER + "author,Analyst,,,,,\n")
    client.get(url)  # the session and the caches settled
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    load(lims, personas["system_owner"], HEADER + "author,Analyst,,,,,\n" + "".join(
        f"shared{n},Operator,,,,,\n" for n in range(6)) + "qa_approver,Reviewer,,,,,\n")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert (SystemAccount.objects.count(), len(many)) == (8, len(one))


def test_the_systems_posture_links_to_its_accounts_before_any_list(lims: System) -> None:
    from cyberqms.assets.systems.posture import computed_posture

    [fact] = [f for f in computed_posture([lims])[lims.pk]
              if f.label == "Accounts (from its user list)"]
    assert (fact.value, fact.status, fact.url) == (
        "no user list imported", "info", f"/access/systems/{lims.pk}/accounts/")


def test_the_systems_posture_counts_its_accounts(lims: System,
                                                 personas: dict[str, Any]) -> None:
    from cyberqms.assets.systems.posture import computed_posture

    load(lims, personas["system_owner"], HEADER + "author,Analyst,,,,,\nshared,Operator,,,,,\n")
    [fact] = [f for f in computed_posture([lims])[lims.pk]
              if f.label == "Accounts (from its user list)"]
    assert (fact.value, fact.status) == ("2 in force, 1 without a person", "warn")
