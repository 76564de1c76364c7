"""Enrichment between normalization and detection: site-local time, system kind, user status.

Requirements: CYB-04 (detection needs the site's calendar and the directory), P11-05 /
CYB-07 (activity by disabled or departed users), A11-21 (off-hours record changes).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cyberqms.demo.plant import Clock, build_plant, dc_line, gxp_line
from cyberqms.security.detect.detection import SHIPPED_RULES_DIR, Engine, load_rules
from cyberqms.security.detect.enrich import (
    Enricher,
    InMemoryDirectory,
    UserDirectory,
    sites_from_plant,
    user_key,
)
from cyberqms.security.detect.ocsf import SourceInfo, epoch_ms, normalize
from cyberqms.security.detect.parsers import parse_line
from cyberqms.security.monitoring.directory import DjangoUserDirectory

SITES = {"BSL": "Europe/Zurich", "DUB": "Europe/Dublin"}
PLANT = build_plant()
DC = PLANT.sources["BSL-DC"]
LIMS = PLANT.sources["BSL-LIMS"]


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return epoch_ms(datetime(year, month, day, hour, minute, tzinfo=UTC))


def event(site: str | None = "BSL", ms: int = 0, **extra: Any) -> dict[str, Any]:
    return {"time": ms, "gxp": {"site": site}, "metadata": {"log_name": "X"}, **extra}


def leef(ms: int, event_id: str, user: str, **attrs: str) -> dict[str, Any]:
    line = dc_line(DC, Clock(), ms, event_id, user, "10.10.20.7", "BSL-WS-07", **attrs)
    return normalize(parse_line(line, "leef"), source=SourceInfo("BSL-DC", "leef", "BSL", "dc"))


def lims(ms: int, action: str, user: str, **attrs: str) -> dict[str, Any]:
    line = gxp_line(LIMS, Clock(), ms, action, user, "BSL-LAB-WS-07", "10.11.3.17",
                    f"{action} by {user}", **attrs)
    return normalize(parse_line(line, "syslog"),
                     source=SourceInfo("BSL-LIMS", "syslog", "BSL", "bsl-lims01"))


# --- site-local time -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "moment", "hour", "weekday"),
    [
        ("BSL", at(2026, 1, 15, 23, 30), 0, 5),  # CET: Friday 00:30 in Basel
        ("DUB", at(2026, 1, 15, 23, 30), 23, 4),  # GMT: still Thursday in Dublin
        ("BSL", at(2026, 7, 4, 22, 0), 0, 7),  # CEST: Sunday 00:00
        ("DUB", at(2026, 7, 4, 22, 0), 23, 6),  # IST: Saturday 23:00
        ("BSL", at(2026, 3, 29, 0, 59), 1, 7),  # last minute before the spring change
        ("BSL", at(2026, 3, 29, 1, 0), 3, 7),  # 02:00 local never happened
        ("BSL", at(2026, 10, 25, 0, 30), 2, 7),  # autumn: first 02:30 (CEST)
        ("BSL", at(2026, 10, 25, 1, 30), 2, 7),  # second 02:30 (CET)
        ("ZZZ", at(2026, 3, 2, 4, 0), 4, 1),  # unknown site: default UTC, Monday
    ],
)
def test_hour_and_weekday_are_site_local(site: str, moment: int, hour: int, weekday: int) -> None:
    enriched = Enricher(SITES).enrich(event(site, moment))
    assert (enriched["gxp"]["hour"], enriched["gxp"]["weekday"]) == (hour, weekday)


def test_local_time_matches_zoneinfo_everywhere() -> None:
    zones = {"BSL": "Europe/Zurich", "LHI": "Australia/Lord_Howe", "KOL": "Asia/Kolkata",
             "NYC": "America/New_York", "CHA": "Pacific/Chatham"}
    enricher = Enricher(zones)
    rng = random.Random(5)
    lo, hi = at(2025, 1, 1), at(2028, 1, 1)
    moments = [rng.randrange(lo, hi) for _ in range(4000)]
    # and every minute around the Lord Howe transitions (30-minute DST shift)
    for start in (at(2026, 4, 4, 14, 0), at(2026, 10, 3, 15, 0)):
        moments += [start + k * 60_000 for k in range(120)]
    for ms in moments:
        for site, tz in zones.items():
            local = datetime.fromtimestamp(ms / 1000, ZoneInfo(tz))
            assert enricher.local_time(site, ms) == (local.hour, local.isoweekday()), (site, ms)


def test_no_default_zone_leaves_time_fields_out() -> None:
    enriched = Enricher(SITES, default_tz=None).enrich(event("ZZZ", at(2026, 3, 2)))
    assert "hour" not in enriched["gxp"]
    assert "weekday" not in enriched["gxp"]


def test_event_without_time_or_gxp_is_left_alone() -> None:
    bare: dict[str, Any] = {"class_uid": 0}
    assert Enricher(SITES).enrich(bare) == {"class_uid": 0, "gxp": {}}


# --- system kind ---------------------------------------------------------------------------


def test_system_kind_by_system_then_source_name() -> None:
    enricher = Enricher(SITES, system_kinds={"bsl-plc-br": "PLC", "BSL-DC": "dc", "QMS": "qms"})
    by_system = enricher.enrich(event(gxp={"site": "BSL", "system": "BSL-PLC-BR"}))
    assert by_system["gxp"]["system_kind"] == "plc"
    by_source = enricher.enrich(event(metadata={"log_name": "bsl-dc"}))
    assert by_source["gxp"]["system_kind"] == "directory"  # "dc" is a directory
    unknown = enricher.enrich(event(metadata={"log_name": "other"}))
    assert "system_kind" not in unknown["gxp"]
    given = enricher.enrich(event(gxp={"system": "bsl-plc-br", "system_kind": "dcs"}))
    assert given["gxp"]["system_kind"] == "dcs"


# --- users ---------------------------------------------------------------------------------


def test_in_memory_directory_is_a_user_directory() -> None:
    directory = InMemoryDirectory({"KFischer": "departed"}, schedules={"ops1": "shift"})
    assert isinstance(directory, UserDirectory)
    assert directory.status("PHARMA\\kfischer") == "departed"
    assert directory.status("kfischer@pharma.example") == "departed"
    assert directory.status("nobody") is None
    assert directory.schedule("OPS1") == "shift"
    assert user_key("PHARMA\\Ana.B@x") == "ana.b"


@pytest.mark.parametrize(
    ("status", "disabled"),
    [("active", False), ("disabled", True), ("departed", True), ("terminated", True)],
)
def test_user_status_from_the_directory(status: str, disabled: bool) -> None:
    enricher = Enricher(SITES, InMemoryDirectory({"ana": status}))
    enriched = enricher.enrich(event(actor={"user": {"name": "Ana"}}))
    assert enriched["gxp"]["user_status"] == status
    assert enriched["actor"]["user"]["disabled"] is disabled


def test_unknown_user_gets_no_status() -> None:
    enriched = Enricher(SITES, InMemoryDirectory({})).enrich(event(actor={"user": {"name": "x"}}))
    assert "user_status" not in enriched["gxp"]
    assert "disabled" not in enriched["actor"]["user"]


def test_work_pattern_from_the_directory() -> None:
    enricher = Enricher(SITES, InMemoryDirectory({}, schedules={"ops1": "shift"}))
    assert enricher.enrich(event(actor={"user": {"name": "ops1"}}))["gxp"]["work_pattern"] == "shift"


def test_windows_4725_disables_the_account_for_later_events() -> None:
    enricher = Enricher(SITES)  # no directory: the stream alone says it
    disable = enricher.enrich(leef(at(2026, 3, 2, 9), "4725", "slindqvist",
                                   targetUser="kfischer", msg="A user account was disabled"))
    assert (disable["class_uid"], disable["activity_id"]) == (3001, 5)
    assert disable["gxp"].get("user_status") is None  # the administrator is not disabled
    later = enricher.enrich(lims(at(2026, 3, 2, 11), "auth.login", "KFischer"))
    assert later["gxp"]["user_status"] == "disabled"
    assert later["actor"]["user"]["disabled"] is True
    enricher.enrich(leef(at(2026, 3, 2, 12), "4722", "slindqvist", targetUser="kfischer",
                         msg="A user account was enabled"))
    again = enricher.enrich(lims(at(2026, 3, 2, 13), "auth.login", "kfischer"))
    assert again["gxp"]["user_status"] == "active"


def test_learning_can_be_switched_off() -> None:
    enricher = Enricher(SITES, learn=False)
    enricher.enrich(leef(at(2026, 3, 2, 9), "4725", "slindqvist", targetUser="kfischer",
                         msg="A user account was disabled"))
    assert "user_status" not in enricher.enrich(lims(at(2026, 3, 2, 11), "auth.login",
                                                     "kfischer"))["gxp"]


def test_the_stream_overrides_the_directory() -> None:
    enricher = Enricher(SITES, InMemoryDirectory({"kfischer": "active"}))
    assert enricher.enrich(lims(at(2026, 3, 2, 8), "auth.login", "kfischer"))["gxp"][
        "user_status"] == "active"
    enricher.enrich(leef(at(2026, 3, 2, 9), "4725", "slindqvist", targetUser="kfischer",
                         msg="A user account was disabled"))
    assert enricher.enrich(lims(at(2026, 3, 2, 10), "auth.login", "kfischer"))["gxp"][
        "user_status"] == "disabled"


def test_role_granted_to_an_account_created_within_a_day_is_marked_new() -> None:
    enricher = Enricher(SITES)
    t0 = at(2026, 3, 2, 9)
    created = enricher.enrich(leef(t0, "4720", "ddoyle", targetUser="adm_support2",
                                   msg="A user account was created"))
    assert (created["class_uid"], created["activity_id"]) == (3001, 1)
    grant = enricher.enrich(leef(t0 + 60_000, "4728", "ddoyle", targetUser="adm_support2",
                                 groupName="Domain Admins",
                                 msg="A member was added to a security-enabled global group"))
    assert grant["gxp"]["new_account"] is True
    late = enricher.enrich(leef(t0 + 25 * 3_600_000, "4728", "ddoyle",
                                targetUser="adm_support2", groupName="Backup Operators",
                                msg="A member was added to a security-enabled global group"))
    assert "new_account" not in late["gxp"]
    other = enricher.enrich(leef(t0 + 120_000, "4728", "ddoyle", targetUser="treyes",
                                 groupName="Domain Admins",
                                 msg="A member was added to a security-enabled global group"))
    assert "new_account" not in other["gxp"]


def test_enriched_events_fire_the_pack() -> None:
    engine = Engine(load_rules([SHIPPED_RULES_DIR]))
    plant_directory = InMemoryDirectory(
        {p.username: "departed" if p.departed else "active" for p in PLANT.people},
        schedules={p.username: "shift" if p.role == "operator" else "day" for p in PLANT.people},
    )
    enricher = Enricher(sites_from_plant(PLANT), plant_directory, {"bsl-lims01": "lims"})
    titles = {m.title for m in engine.evaluate(enricher.enrich(
        lims(at(2026, 3, 2, 10), "record.view", "kfischer", record_type="result")))}
    assert titles == {"Activity by a disabled or departed user"}
    night = enricher.enrich(lims(at(2026, 3, 3, 1, 30), "result.modify", "lmeier",
                                 record_type="result"))
    assert night["gxp"]["system_kind"] == "lims"
    assert (night["gxp"]["hour"], night["gxp"]["weekday"]) == (2, 2)
    assert {m.title for m in engine.evaluate(night)} == {
        "GxP record modified off-hours or from an unusual host"}
    day = enricher.enrich(lims(at(2026, 3, 3, 10), "result.modify", "lmeier",
                               record_type="result"))
    assert engine.evaluate(day) == []


# --- the cyberqms accounts as a directory ---------------------------------------------------


def test_django_directory_reads_is_active_and_deactivated_at(
    make_user: Callable[..., Any],
) -> None:
    from cyberqms.platform.accounts.models import User

    make_user("ana")
    make_user("bob")
    make_user("carol")
    make_user("kiosk", kind="generic")
    make_user("dora")
    now = datetime.now(UTC)
    User.objects.filter(username="dora").update(work_pattern="shift")
    User.objects.filter(username="bob").update(is_active=False, deactivated_at=now)
    User.objects.filter(username="carol").update(is_active=False)
    directory = DjangoUserDirectory()
    assert isinstance(directory, UserDirectory)
    assert directory.status("ANA") == "active"
    assert directory.status("bob") == "departed"
    assert directory.status("carol") == "disabled"
    assert directory.status("nobody") is None
    assert directory.schedule("kiosk") == "service"  # shared accounts run around the clock
    assert directory.schedule("ana") == "day"  # the default
    assert directory.schedule("dora") == "shift"
    assert directory.schedule("nobody") is None
    User.objects.filter(username="ana").update(is_active=False,
                                               deactivated_at=now + timedelta(minutes=1))
    assert directory.status("ana") == "active"  # loaded once
    directory.refresh()
    assert directory.status("ana") == "departed"
