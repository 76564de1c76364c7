"""Behaviour baselines (issue 5, deliverable 5): per-user and per-system baselines scored as
events arrive, each anomaly explained by its top features, thresholds tuned to an alert
budget, no alerts while a subject learns, bounded memory, never a crash on odd input.

Requirements: CYB-04 (detection rules and behaviour baselines raise alerts), A11D-03 (per
system security events).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyberqms.security.detect.baseline import (
    SYSTEM_RULE,
    USER_RULE,
    BaselineConfig,
    Baselines,
    _Calibrator,
)

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
USERS = ("ana", "ben", "chloe", "dario", "eva")
ROUTINE = (  # (event code, type_uid, record type): a QC analyst's LIMS day
    ("RESULT_ENTER", 600301, "result"),
    ("RESULT_REVIEW", 600302, "result"),
    ("RECORD_VIEW", 600302, "sample"),
    ("SAMPLE_LOGIN", 600301, "sample"),
)
CONFIG = BaselineConfig(learning_days=3, min_events=50)


def event(user: str | None, at: datetime, *, host: str = "", code: str = "RESULT_ENTER",
          type_uid: int = 600301, record_type: str = "result", system: str = "lims01",
          failed: bool = False, pattern: str = "day") -> dict[str, Any]:
    """A normalized, enriched LIMS event (times in UTC, the site's clock is UTC too)."""
    ms = int(at.timestamp() * 1000)
    gxp: dict[str, Any] = {"site": "BSL", "system": system, "record_type": record_type,
                           "hour": at.hour, "weekday": at.isoweekday(),
                           "system_kind": "lims"}
    out: dict[str, Any] = {
        "time": ms, "class_uid": type_uid // 100, "activity_id": type_uid % 100,
        "type_uid": type_uid, "status_id": 2 if failed else 1,
        "metadata": {"event_code": code, "log_name": "LIMS"}, "gxp": gxp,
        "src_endpoint": {"hostname": host or f"LAB-WS-{(*USERS, user).index(user):02d}"},
    }
    if user is not None:
        out["actor"] = {"user": {"name": user}}
        gxp["work_pattern"] = pattern
    return out


def routine(start: datetime, days: int) -> Iterator[dict[str, Any]]:
    """Five analysts, Monday to Friday 08:00-16:59, an event every 4 minutes each."""
    for day in range(days):
        date = start + timedelta(days=day)
        if date.isoweekday() > 5:
            continue
        for minute in range(8 * 60, 17 * 60, 4):
            for i, user in enumerate(USERS):
                code, type_uid, record_type = ROUTINE[(minute // 4 + i) % len(ROUTINE)]
                yield event(user, date + timedelta(minutes=minute + i / 10), code=code,
                            type_uid=type_uid, record_type=record_type)


def learned(days: int = 14, config: BaselineConfig = CONFIG) -> Baselines:
    baselines = Baselines(config)
    for e in routine(MONDAY, days):
        assert baselines.observe(e) == []
    return baselines


def by_rule(matches: list[Any]) -> dict[str, Any]:
    return {m.rule_id: m for m in matches}


# --- what an anomaly looks like ------------------------------------------------------------


def test_off_hours_access_from_an_unusual_host_is_explained_cyb_04() -> None:
    baselines = learned()
    night = MONDAY + timedelta(days=15, hours=3, minutes=12)  # a Tuesday, 03:12
    matches = by_rule(baselines.observe(
        event("ana", night, host="VPN-CLIENT", code="RESULT_MODIFY", type_uid=600303)))
    assert set(matches) == {USER_RULE.id, SYSTEM_RULE.id}
    user = matches[USER_RULE.id]
    assert (user.rule, user.group, user.level) == (USER_RULE, (("actor.user.name", "ana"),),
                                                     "medium")
    assert (user.techniques, user.requirements) == (("T1078",), ("CYB-04",))
    context = user.context
    assert context is not None
    assert (context["baseline"], context["subject"], context["unit"]) == ("user", "ana", "bits")
    assert context["threshold"] == 10.0  # quiet routine: the floor
    assert context["score"] >= context["threshold"]
    features = {f["feature"]: f for f in context["features"]}
    assert set(features) == {"hour", "host", "action"}
    assert (features["hour"]["value"], features["hour"]["usual"]) == (3, "08–16")
    assert (features["host"]["value"], features["host"]["usual"]) == ("VPN-CLIENT", "LAB-WS-00")
    assert features["action"]["value"] == "API Activity: Update · result · RESULT_MODIFY"
    assert features["action"]["usual"] == (
        "API Activity: Create · result · RESULT_ENTER, API Activity: Read · result · "
        "RESULT_REVIEW, API Activity: Read · sample · RECORD_VIEW (+1 more)")
    assert [f["feature"] for f in context["features"]] == [
        f["feature"] for f in sorted(context["features"], key=lambda f: -f["bits"])]
    assert sum(f["contribution"] for f in context["features"]) == pytest.approx(1.0, abs=0.02)
    assert json.loads(json.dumps(context)) == context
    system = matches[SYSTEM_RULE.id]
    assert system.group == (("gxp.system", "lims01"),)
    assert system.requirements == ("CYB-04", "A11D-03")


def test_routine_raises_nothing_cyb_04() -> None:
    baselines = learned(21)
    assert baselines.figures()["alerts"] == 0
    assert baselines.figures()["mature"] == len(USERS) + 1


def test_mass_deletion_is_caught_by_volume_and_action_within_seconds_cyb_04() -> None:
    baselines = learned()
    start = MONDAY + timedelta(days=15, hours=10, minutes=30)
    first = None
    for i in range(300):
        matches = baselines.observe(event("ben", start + timedelta(seconds=i / 5),
                                          code="RESULT_DELETE", type_uid=600304))
        if matches and first is None:
            first = (i, by_rule(matches))
    assert first is not None
    index, matches = first
    # A delete is new for ben (about 8 bits, not enough alone); within seconds the volume of
    # the burst is.
    assert index == 39
    assert [f["feature"] for f in matches[USER_RULE.id].context["features"]] == ["volume"]
    # one match per subject and episode: the open alert groups the rest of the burst
    assert baselines.figures()["alerts"] == 2


def test_volume_alone_alerts_when_far_beyond_the_hour_cyb_04() -> None:
    baselines = learned()
    start = MONDAY + timedelta(days=15, hours=11)
    seen = []
    for i in range(400):
        code, type_uid, record_type = ROUTINE[i % len(ROUTINE)]
        matches = baselines.observe(event("chloe", start + timedelta(seconds=i * 2), code=code,
                                          type_uid=type_uid, record_type=record_type))
        seen += [(i, m) for m in matches if m.rule_id == USER_RULE.id]
    assert len(seen) == 1
    index, match = seen[0]
    assert [f["feature"] for f in match.context["features"]] == ["volume"]
    assert index == 39
    assert match.context["features"][0]["value"] == index + 1  # events in this hour


# --- learning period, cooldown, routine rarities ---------------------------------------------


def test_no_alert_while_a_subject_learns_cyb_04() -> None:
    baselines = learned(2)
    night = MONDAY + timedelta(days=2, hours=3)
    odd = event("ana", night, host="VPN-CLIENT", code="RESULT_MODIFY", type_uid=600303)
    assert baselines.observe(odd) == []
    # a new user, however odd, learns first
    assert Baselines(CONFIG).observe(odd) == []
    later = learned(14)
    newcomer = event("zoe", MONDAY + timedelta(days=15, hours=3), host="VPN-CLIENT")
    assert [m.rule_id for m in later.observe(newcomer)] == [SYSTEM_RULE.id]


def test_one_match_per_subject_per_cooldown_cyb_04() -> None:
    baselines = learned()
    night = MONDAY + timedelta(days=15, hours=2)

    def odd(at: datetime) -> dict[str, Any]:
        return event("dario", at, host="VPN-CLIENT", code="RESULT_MODIFY", type_uid=600303)

    assert USER_RULE.id in by_rule(baselines.observe(odd(night)))
    assert USER_RULE.id not in by_rule(baselines.observe(odd(night + timedelta(minutes=20))))
    assert USER_RULE.id in by_rule(baselines.observe(odd(night + timedelta(minutes=61))))


def test_a_recurring_rare_job_becomes_routine_cyb_04() -> None:
    """A nightly backup export by a service account: rare, but every night."""
    baselines = Baselines(CONFIG)
    night_alerts = []
    for day in range(14):
        for e in routine(MONDAY + timedelta(days=day), 1):
            baselines.observe(e)
        backup = event("svc_backup", MONDAY + timedelta(days=day, hours=25, minutes=30),
                       host="SRV-BKP01", code="DATA_EXPORT", type_uid=600107,
                       record_type="database", pattern="service")
        night_alerts.append(len(baselines.observe(backup)))
    assert night_alerts == [0] * 14


def test_shift_workers_hours_are_judged_by_their_peers_cyb_04() -> None:
    """An operator moves to the night shift: unusual for him, not for shift workers."""
    config = BaselineConfig(learning_days=3, min_events=50)
    baselines = Baselines(config)
    for day in range(14):
        date = MONDAY + timedelta(days=day)
        for minute in range(0, 24 * 60, 6):
            at = date + timedelta(minutes=minute)
            group = (at.hour // 8 + day // 7) % 3  # three shifts, rotating weekly
            for op in range(3):
                if op == group:
                    baselines.observe(event(f"op{op}", at, host=f"HMI-{op}", pattern="shift",
                                            code="BATCH_STEP", type_uid=600303,
                                            record_type="batch_record", system="mes01"))
    # op0 worked 00-08 in week 1 and 08-16 in week 2: 20:00 is new to him
    late = event("op0", MONDAY + timedelta(days=14, hours=20), host="HMI-0", pattern="shift",
                 code="BATCH_STEP", type_uid=600303, record_type="batch_record",
                 system="mes01")
    assert baselines.observe(late) == []


# --- the alert budget ------------------------------------------------------------------------


def test_calibration_picks_the_lowest_threshold_within_the_target_cyb_04() -> None:
    calibrator = _Calibrator(window=7)
    assert calibrator.threshold(2.0, floor=10.0, prior=24.0) == 24.0  # no complete day yet
    for day in range(2):
        for score in (11.0, 12.2, 15.0, 30.0) if day == 0 else (11.4, 13.0, 14.9, 29.0):
            calibrator.record(score)
        calibrator.close_day()
    # per day: 2 subject-hours at or above 13.5 bits, 2.5 at or above 13.0
    assert calibrator.threshold(2.0, floor=10.0, prior=24.0) == 13.5
    assert calibrator.threshold(1.0, floor=10.0, prior=24.0) == 15.5
    assert calibrator.threshold(5.0, floor=10.0, prior=24.0) == 10.0
    assert calibrator.threshold(5.0, floor=12.0, prior=24.0) == 12.0
    assert calibrator.daily_above(13.5) == [2, 2]


def test_a_smaller_budget_raises_the_thresholds_cyb_04() -> None:
    """Every working day two analysts export once from an unknown host: both kinds of
    alert cost budget; with a budget of 1 a day the thresholds rise above those scores."""
    def run(budget: float) -> Baselines:
        baselines = Baselines(BaselineConfig(learning_days=3, min_events=50,
                                             alerts_per_day=budget))
        for day in range(21):
            for e in routine(MONDAY + timedelta(days=day), 1):
                baselines.observe(e)
            if day >= 2 and (MONDAY + timedelta(days=day)).isoweekday() <= 5:
                for user in USERS[day % 2::2][:2]:
                    at = MONDAY + timedelta(days=day, hours=12, minutes=7)
                    baselines.observe(event(user, at, host=f"KIOSK-{day}",
                                            code=f"EXPORT_{day}", type_uid=600107,
                                            record_type="report"))
        return baselines

    generous, strict = run(20.0), run(1.0)
    assert generous.thresholds == {"user": 10.0, "system": 10.0}
    assert strict.thresholds["user"] > generous.thresholds["user"]
    assert strict.thresholds["system"] > generous.thresholds["system"]
    assert strict.figures()["alerts"] < generous.figures()["alerts"]


# --- bounds and robustness -----------------------------------------------------------------


def test_memory_is_bounded_by_the_subject_cap() -> None:
    baselines = Baselines(BaselineConfig(max_users=10, max_systems=2))
    at = MONDAY
    for i in range(30):
        baselines.observe(event(f"user{i}", at + timedelta(minutes=i), system=f"sys{i % 5}",
                                host=f"H{i}"))
    figures = baselines.figures()
    # 20 users evicted; the five systems take turns, so 28 evictions among them
    assert (figures["users"], figures["systems"], figures["evictions"]) == (10, 2, 48)


def test_values_per_subject_are_bounded() -> None:
    baselines = Baselines(BaselineConfig(max_values=8))
    for i in range(100):
        baselines.observe(event("ana", MONDAY + timedelta(minutes=i), host=f"H{i}"))
    subject = baselines._users["ana"]
    assert len(subject.hosts.counts) <= 8
    assert len(baselines._systems["lims01"].hosts.counts) <= 32


def test_disabled_baselines_do_nothing() -> None:
    baselines = Baselines(BaselineConfig(enabled=False))
    assert baselines.observe(event("ana", MONDAY)) == []
    assert baselines.figures()["users"] == 0


def test_odd_parts_are_ignored_not_the_whole_event() -> None:
    baselines = Baselines(CONFIG)
    odd = event("ana", MONDAY)
    odd["gxp"], odd["metadata"] = ["not", "a", "dict"], "nor this"
    assert baselines.observe(odd) == []
    figures = baselines.figures()
    assert (figures["users"], figures["systems"], figures["rejected"]) == (1, 0, 0)
    assert baselines.observe(["not an event"]) == []  # type: ignore[arg-type]  # invalid on purpose
    assert baselines.figures()["rejected"] == 1


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=3),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries({}, optional={
    "time": JSON | st.integers(min_value=-(2**63), max_value=2**63),
    "type_uid": JSON, "status_id": JSON,
    "gxp": JSON | st.fixed_dictionaries({}, optional={
        "hour": JSON, "weekday": JSON, "system": JSON, "record_type": JSON,
        "work_pattern": JSON}),
    "actor": JSON | st.fixed_dictionaries({"user": JSON | st.fixed_dictionaries(
        {}, optional={"name": JSON})}),
    "src_endpoint": JSON | st.fixed_dictionaries({}, optional={"hostname": JSON, "ip": JSON}),
    "metadata": JSON | st.fixed_dictionaries({}, optional={"event_code": JSON,
                                                           "log_name": JSON}),
    "device": JSON,
})


@functools.cache
def _mature() -> Baselines:
    """Baselines past learning, shared by the property tests (they keep learning)."""
    return learned(5)


@settings(max_examples=300, deadline=None)
@given(st.lists(FIELDS | JSON, max_size=6))
def test_any_event_shape_never_raises_cyb_04(events: list[Any]) -> None:
    baselines = _mature()
    for e in events:
        for match in baselines.observe(e):
            json.dumps(match.context)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from((*USERS, "zoe")), st.integers(0, 24 * 60 - 1),
                          st.text(max_size=6), st.sampled_from(ROUTINE), st.booleans()),
                max_size=20))
def test_well_formed_odd_events_give_json_explanations_cyb_04(
        picks: list[tuple[str, int, str, tuple[str, int, str], bool]]) -> None:
    baselines = _mature()
    for user, minute, host, (code, type_uid, record_type), failed in picks:
        at = MONDAY + timedelta(days=5, minutes=minute)
        for match in baselines.observe(event(user, at, host=host or "LAB-WS-00", code=code,
                                             type_uid=type_uid, record_type=record_type,
                                             failed=failed)):
            context = match.context
            assert context is not None
            assert json.loads(json.dumps(context)) == context
            assert 1 <= len(context["features"]) <= 3
            assert context["score"] >= context["threshold"]


# --- on the synthetic plant ------------------------------------------------------------------


@pytest.mark.slow
def test_plant_false_alerts_stay_within_budget_and_attacks_are_caught_cyb_04() -> None:
    """5 simulated days (2 learning): the budget holds on normal traffic, and off-hours
    access, mass deletion and a new administrator from outside are caught."""
    from cyberqms.demo import baseline_quality as quality

    q = quality.measure("ci", days=5, learning_days=2, per_day=2, budget=5.0, scenarios=[
        "gxp_record_offhours", "mass_deletion_cds", "new_admin_qms"])
    assert q.false_alerts_per_day <= 5.0, quality.table(q)
    caught = {sid: f.detected for sid, f in q.scenarios.items()}
    assert caught == {"gxp_record_offhours": 2, "mass_deletion_cds": 2, "new_admin_qms": 2}, \
        quality.table(q)


# --- Django: the process's baselines, warmed from stored events ---------------------------


@pytest.fixture
def stored(personas: dict[str, Any]) -> Any:
    """Ten days of routine stored as accepted events, received as they happened (as
    ingest keeps them: the payload, and the normalized event for one in fifty, the
    evidence behind alerts), plus a quarantined line and an event older than the warm-up
    window."""
    from django.utils import timezone

    from cyberqms.security.monitoring import services
    from cyberqms.security.monitoring.models import RawEvent

    source = services.source_create(actor=personas["it_security"], name="LIMS BSL",
                                    kind="lims", system="lims01", format="jsonl")
    now = timezone.now()
    start = (now - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)

    def row(e: dict[str, Any] | None, at: datetime, *, keep: bool = False,
            status: str = "accepted") -> RawEvent:
        payload = json.dumps(e).encode() if e is not None else b"\xff"
        return RawEvent(source=source, received_at=at, channel="file", sha256="0" * 64,
                        size=len(payload), payload=payload, status=status,
                        event=e if keep else None)

    rows = [row(e, datetime.fromtimestamp(e["time"] / 1000, tz=UTC), keep=i % 50 == 0)
            for i, e in enumerate(routine(start, 10))]
    rows.append(row(None, start + timedelta(days=3), status="quarantined"))
    ancient = event("old_timer", now - timedelta(days=40))
    rows.append(row(ancient, now - timedelta(days=40)))
    RawEvent.objects.bulk_create(rows, batch_size=500)
    return now, len(rows) - 2


@pytest.mark.django_db
def test_baselines_warm_from_stored_events_cyb_04(stored: Any, settings: Any) -> None:
    from cyberqms.security.monitoring.baseline_store import behaviour_baselines, reset_baselines

    now, _ = stored
    settings.CYBERQMS_BASELINE_LEARNING_DAYS = 3
    reset_baselines()
    try:
        baselines = behaviour_baselines()
        assert behaviour_baselines() is baselines  # one per process
        figures = baselines.figures()
        assert (figures["users"], figures["systems"], figures["mature"]) == (5, 1, 6)
        assert baselines.config.learning_days == 3.0
        assert figures["alerts"] == 0  # the replay raises nothing
        night = (now + timedelta(days=1)).replace(hour=3, minute=12)
        matches = baselines.observe(event("ana", night, host="VPN-CLIENT",
                                          code="RESULT_MODIFY", type_uid=600303))
        assert USER_RULE.id in by_rule(matches)
    finally:
        reset_baselines()


@pytest.mark.django_db
def test_warm_up_reads_the_newest_events_within_the_bounds(stored: Any, settings: Any) -> None:
    from django.utils import timezone

    from cyberqms.security.monitoring.baseline_store import warm_baselines

    now, routine_events = stored
    settings.CYBERQMS_BASELINE_WARMUP_EVENTS = 1000
    baselines = Baselines(CONFIG)
    assert warm_baselines(baselines, now=now) == 1000
    # the newest thousand: the last two working days' routine
    assert baselines.figures()["users"] == 5
    settings.CYBERQMS_BASELINE_WARMUP_EVENTS = 10**6
    assert warm_baselines(Baselines(CONFIG), now=now) == routine_events
    settings.CYBERQMS_BASELINE_WARMUP_DAYS = 0
    assert warm_baselines(Baselines(CONFIG), now=timezone.now()) == 0


@pytest.mark.django_db
def test_disabled_in_settings_builds_no_baseline(stored: Any, settings: Any) -> None:
    from cyberqms.security.monitoring.baseline_store import behaviour_baselines, reset_baselines

    settings.CYBERQMS_BASELINE_ENABLED = False
    reset_baselines()
    try:
        baselines = behaviour_baselines()
        assert baselines.figures()["users"] == 0
        assert baselines.observe(event("ana", MONDAY)) == []
    finally:
        reset_baselines()
