"""Each person's time zone: chosen on the profile (audited), taken from their site at
creation, shown on every page as local time with UTC on hover; the API and the copies of
records stay in UTC (AL-07: one time base, UTC, in every export)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from cyberqms.conftest import PASSWORD
from cyberqms.platform.accounts import services
from cyberqms.platform.accounts.models import User
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.trail.integrity import check_trail
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state, ready_to_sign

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]

MOMENT = datetime(2026, 12, 6, 13, 5, tzinfo=UTC)
UTC_ATTRIBUTES = 'datetime="2026-12-06T13:05:00Z" title="2026-12-06 13:05 UTC"'
IN_ZURICH = f"<time {UTC_ATTRIBUTES}>6 Dec 2026, 14:05 CET</time>"
IN_TOKYO = f"<time {UTC_ATTRIBUTES}>6 Dec 2026, 22:05 JST</time>"
IN_UTC = f"<time {UTC_ATTRIBUTES}>6 Dec 2026, 13:05 UTC</time>"
PROFILE = "/profile/"
CHOOSE = "/profile/time-zone/"


def in_zone(user: User, zone: str) -> User:
    services.user_time_zone_set(user, actor=user, time_zone=zone)
    return user


def password_changed_at_moment(user: User) -> User:
    """The profile shows when the password was changed: that time is MOMENT."""
    User.objects.filter(pk=user.pk).update(password_changed_at=MOMENT)
    return User.objects.get(pk=user.pk)


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def entries(action: str) -> list[dict[str, Any]]:
    return [e.data for e in AuditEntry.objects.filter(action=action).order_by("seq")]


# --- showing ------------------------------------------------------------------------------


def test_a_person_in_zurich_sees_local_time_with_utc_on_hover(
    make_user: Any, login: Login
) -> None:
    zoe = password_changed_at_moment(in_zone(make_user("zoe", "author"), "Europe/Zurich"))
    assert IN_ZURICH in page(login(zoe), PROFILE)


def test_a_person_without_a_zone_sees_the_installations_zone(
    make_user: Any, login: Login
) -> None:
    """No site, no choice: CYBERQMS_TIME_ZONE, UTC unless set."""
    uma = password_changed_at_moment(make_user("uma", "author"))
    assert IN_UTC in page(login(uma), PROFILE)


def test_a_new_person_takes_their_sites_time_zone(make_user: Any, login: Login) -> None:
    admin = make_user("admin", "administrator")
    with acting_context(RequestContext(channel="cli")):
        basel = services.site_create(actor=admin, code="BSL", name="Basel",
                                     time_zone="Europe/Zurich")
        bea = services.user_create(actor=admin, username="bea", full_name="Bea Basel",
                                   email="bea@x.test", site=basel, reason="joiner").user
    User.objects.filter(pk=bea.pk).update(must_change_password=False)
    assert IN_ZURICH in page(login(password_changed_at_moment(bea)), PROFILE)


def test_record_lists_show_when_a_record_was_opened_in_the_readers_zone(
    personas: dict[str, Any], login: Login
) -> None:
    reader = in_zone(personas["qa_manager"], "Europe/Zurich")
    d = deviation_in_state(personas, "draft", site=a_site("MUC"))
    Deviation.objects.filter(pk=d.pk).update(created_at=MOMENT)
    row = re.search(rf"<tr>\s*<td[^>]*><a href=\"/deviations/{d.pk}/\">.*?</tr>",
                    page(login(reader), "/deviations/"), re.S)
    assert row is not None
    assert IN_ZURICH in row.group(0)


def test_the_zone_costs_no_query(make_user: Any, login: Login,
                                 django_assert_num_queries: Any) -> None:
    """The zone is read from the person's row, which the request loads anyway: a page costs
    the same queries in UTC and in Zurich (session, user, roles, the recorded access
    decision, the unread notifications badge, the second factor, the tokens)."""
    zoe = make_user("zoe", "author")
    client = login(zoe)
    client.get(PROFILE)  # the first request of a session also writes the session
    with django_assert_num_queries(7):
        in_utc = page(client, PROFILE)
    in_zone(zoe, "Europe/Zurich")
    with django_assert_num_queries(7):
        in_zurich = page(client, PROFILE)
    assert ("times in UTC ·" in in_utc, "times in Europe/Zurich (UTC on hover)" in in_zurich) \
        == (True, True)


# --- choosing -----------------------------------------------------------------------------


def test_choosing_a_time_zone_on_the_profile_is_audited(make_user: Any, login: Login) -> None:
    zoe = make_user("zoe", "author")
    response = login(zoe).post(CHOOSE, {"time_zone": "Asia/Tokyo"})
    assert (response.status_code, response["Location"]) == (302, PROFILE)
    [entry] = entries("accounts.user.time_zone_change")
    assert (entry["actor"]["username"], entry["object"]["id"], entry["changes"]) == (
        "zoe", str(zoe.pk), {"time_zone": ["", "Asia/Tokyo"]})


def test_a_zone_change_leaves_the_person_consistent_with_the_trail_p11_02(
    make_user: Any, login: Login
) -> None:
    """The zone is outside the person's audited state (a display preference) and its change
    has an entry of its own: reconciliation finds nothing changed behind cyberqms' back."""
    zoe = make_user("zoe", "author")
    login(zoe).post(CHOOSE, {"time_zone": "Asia/Tokyo"})
    assert check_trail().problems == []


def test_the_chosen_zone_shows_on_the_next_page(make_user: Any, login: Login) -> None:
    client = login(password_changed_at_moment(make_user("zoe", "author")))
    client.post(CHOOSE, {"time_zone": "Asia/Tokyo"})
    assert IN_TOKYO in page(client, PROFILE)


def test_an_unknown_time_zone_is_refused_naming_the_field(
    make_user: Any, login: Login
) -> None:
    zoe = make_user("zoe", "author")
    response = login(zoe).post(CHOOSE, {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 422
    assert response.context["time_zone_form"].errors == {"time_zone": [
        "Select a valid choice. Mars/Olympus_Mons is not one of the available choices."]}
    assert (User.objects.get(pk=zoe.pk).time_zone,
            entries("accounts.user.time_zone_change")) == ("", [])


def test_the_service_refuses_a_zone_the_tz_database_does_not_know(make_user: Any) -> None:
    zoe = make_user("zoe", "author")
    with pytest.raises(ValidationError) as refused:
        services.user_time_zone_set(zoe, actor=zoe, time_zone="Europe/Atlantis")
    assert refused.value.message_dict == {
        "time_zone": ["'Europe/Atlantis' is not a known time zone (e.g. Europe/Zurich)."]}


def test_nobody_sets_another_persons_zone(personas: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        services.user_time_zone_set(personas["author"], actor=personas["admin"],
                                    time_zone="Asia/Tokyo")
    assert refused.value.message_dict == {"time_zone": ["People choose their own time zone."]}


def test_a_site_in_an_unknown_zone_is_refused(make_user: Any) -> None:
    admin = make_user("admin", "administrator")
    with pytest.raises(ValidationError) as refused:
        services.site_create(actor=admin, code="ATL", name="Atlantis",
                             time_zone="Europe/Atlantis")
    assert refused.value.message_dict == {
        "time_zone": ["'Europe/Atlantis' is not a known time zone (e.g. Europe/Zurich)."]}


# --- what stays in UTC ----------------------------------------------------------------------


def test_the_api_answers_in_utc_whatever_the_persons_zone(
    make_user: Any, login: Login
) -> None:
    zoe = in_zone(make_user("zoe", "author"), "Europe/Zurich")
    client = login(zoe)
    User.objects.filter(pk=zoe.pk).update(last_login=MOMENT)  # signing in set it to now
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["last_login"] == "2026-12-06T13:05:00Z"


def test_a_records_json_copy_shows_signatures_in_utc_whoever_asks_p11_19(
    personas: dict[str, Any], login: Login
) -> None:
    """P11-19: the manifestation in the copy is the same for every reader, in UTC."""
    ready_to_sign(personas["qa_manager"], personas["admin"])
    approver = in_zone(ready_to_sign(personas["qa_approver"], personas["admin"]),
                       "Europe/Zurich")
    client = login(approver)
    d = deviation_in_state(personas, "qa_review", site=a_site("MUC"))
    client.post(reverse("records:transition", args=["deviations", d.pk, "approve"]),
                {"password": PASSWORD, "reason": "OK"})
    copy = json.loads(client.get(reverse("records:json", args=["deviations", d.pk])).content)
    [signature] = copy["record"]["signatures"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(UTC\+0000\)",
                        signature["signed_at_display"])
