"""Attack drills (issue 19, items 4 and 5; CYB-09): a labelled scenario injected into the
live pipeline, its alerts marked as the drill's wherever they land, the scorecard read from
what followed and kept when scored; scenario files checked to the last field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from cyberqms.platform.backups.tests.keys import own_backup_keys
from cyberqms.platform.kit.records import kind_by_slug
from cyberqms.platform.kit.tests.kit import ready_to_sign, record_in_state, signature
from cyberqms.security.drills.models import Drill
from cyberqms.security.drills.scenarios import ScenarioError, parse_scenario
from cyberqms.security.drills.scoring import scorecard
from cyberqms.security.drills.services import play
from cyberqms.security.monitoring import metrics
from cyberqms.security.monitoring.models import Alert

DRILLS = kind_by_slug("drills")
BRUTE_FORCE = "Brute force against one account"


def running(personas: dict[str, Any], **fields: Any) -> Drill:
    """A drill of the plant's brute force, started and played."""
    drill = record_in_state(DRILLS, "running", personas, **fields)
    play(drill.pk)
    drill.refresh_from_db()
    return drill


@pytest.mark.django_db
def test_a_drill_raises_the_alert_its_scenario_expects_marked_as_the_drill_cyb_09(
        personas: dict[str, Any]) -> None:
    drill = running(personas)
    assert sorted(Alert.objects.filter(drill=drill.number).values_list("title", flat=True)
                  ) == [BRUTE_FORCE]


@pytest.mark.django_db
def test_the_scorecard_counts_detection_before_anyone_responds(
        personas: dict[str, Any]) -> None:
    card = scorecard(running(personas))
    assert ([(c["key"], c["met"]) for c in card["checks"]], card["score"]) == ([
        ("detected", True), ("detect_time", True), ("acknowledged", False),
        ("incident", False), ("deviation", False), ("capa", False)], 33)


@pytest.mark.django_db
def test_an_acknowledgement_counts_with_who_gave_it(personas: dict[str, Any]) -> None:
    from cyberqms.security.monitoring.services import alert_transition

    drill = running(personas)
    alert = Alert.objects.get(drill=drill.number)
    alert_transition(alert, "acknowledge", actor=personas["it_security"])
    check = next(c for c in scorecard(drill)["checks"] if c["key"] == "acknowledged")
    assert (check["met"], check["measured"].endswith(
        f"by {personas['it_security'].printed_name}")) == (True, True)


@pytest.mark.django_db
def test_a_drill_alert_never_extends_a_real_one(personas: dict[str, Any]) -> None:
    first = running(personas)
    Alert.objects.filter(drill=first.number).update(drill="")  # as if it were real
    second = running(personas)
    assert Alert.objects.filter(drill=second.number).count() == 1


@pytest.mark.django_db
def test_drill_alerts_are_left_out_of_the_metrics_unless_counted(
        personas: dict[str, Any]) -> None:
    running(personas)
    now = timezone.now()
    scope = metrics.Scope(now - dt.timedelta(hours=1), now + dt.timedelta(minutes=1))
    counted = metrics.Scope(scope.start, scope.end, drills=True)
    assert (metrics.alerts_in(scope).count(), metrics.alerts_in(counted).count()) == (0, 1)


@pytest.mark.django_db
def test_an_unannounced_drills_alerts_show_no_mark_until_it_is_scored(
        personas: dict[str, Any]) -> None:
    drill = running(personas, announced=False)
    hidden = list(Alert.objects.filter(drill=drill.number).values_list(
        "drill_disclosed", flat=True))
    drill.lessons = "Found by the night shift."
    drill.save(update_fields=["lessons"])
    qa = ready_to_sign(personas["qa_manager"], personas["admin"])
    DRILLS.workflow.run(drill, "score", actor=qa, signature=signature(qa))
    shown = list(Alert.objects.filter(drill=drill.number).values_list(
        "drill_disclosed", flat=True))
    assert (hidden, shown) == ([False], [True])


@pytest.mark.django_db
def test_the_scorecard_is_kept_when_the_drill_is_scored(personas: dict[str, Any]) -> None:
    drill = record_in_state(DRILLS, "scored", personas)
    Alert.objects.filter(drill=drill.number).update(drill="")  # later edits change nothing
    drill.refresh_from_db()
    assert (drill.scorecard["checks"][0]["met"], scorecard(drill)["score"]) == (True, 33)


@pytest.mark.django_db
def test_a_drill_is_not_scored_before_its_lessons_are_written(
        personas: dict[str, Any]) -> None:
    from cyberqms.platform.kit.workflow import GuardFailed

    drill = running(personas, lessons="")
    qa = ready_to_sign(personas["qa_manager"], personas["admin"])
    with pytest.raises(GuardFailed) as refused:
        DRILLS.workflow.run(drill, "score", actor=qa, signature=signature(qa))
    assert (refused.value.field, refused.value.text) == (
        "lessons", "Write the lessons learned first.")


@pytest.mark.django_db
def test_a_planned_drill_runs_by_itself_at_its_time(personas: dict[str, Any]) -> None:
    from cyberqms.security.drills.services import drills_due

    drill = record_in_state(DRILLS, "planned", personas,
                            planned_for=timezone.now() + dt.timedelta(minutes=5))
    early = drills_due(timezone.now())
    later = drills_due(timezone.now() + dt.timedelta(minutes=6))
    assert (early, later) == ([], [drill.number])


@pytest.mark.django_db
def test_the_command_plays_the_drill_and_prints_its_scorecard(
        personas: dict[str, Any], capsys: Any) -> None:
    from cyberqms.platform.accounts.services import site_create

    site_create(actor=personas["admin"], code="BSL", name="Basel")
    call_command("drill", "run", "brute_force_qms")
    out = capsys.readouterr().out
    drill = Drill.objects.get()
    assert (drill.state, f"Scorecard of {drill.number} as it stands (33 %):" in out,
            f"Detected by a rule expected to detect it: {BRUTE_FORCE}" in out) == (
        "running", True, True)


@pytest.mark.django_db
def test_the_command_refuses_an_unknown_scenario() -> None:
    with pytest.raises(CommandError) as refused:
        call_command("drill", "run", "no_such_thing")
    assert (refused.value.returncode, str(refused.value)) == (
        1, "No scenario 'no_such_thing' in the drill catalogue: see `cyberqms drill "
           "scenarios`.")


@pytest.mark.django_db
def test_the_trend_page_shows_each_drill_with_its_score(
        personas: dict[str, Any], login: Any) -> None:
    drill = running(personas)
    page = login(personas["it_security"]).get("/drills/trend/")
    assert (page.status_code, drill.number in page.text, "33 %" in page.text) == (
        200, True, True)


# --- scenario files ------------------------------------------------------------------------

VALID = {"id": "lims_spray", "title": "Spraying the LIMS", "description": "",
         "expect": ["48c05ee1-9997-4084-9ee7-bfa28a7fd63a"],
         "events": [{"source": "lims", "after_s": 0, "line": "{time} fail"}]}


def test_a_valid_scenario_file_reads() -> None:
    scenario = parse_scenario(json.dumps(VALID).encode(), name="s.json")
    assert (scenario.id, scenario.expected_rules, scenario.origin) == (
        "lims_spray", ("48c05ee1-9997-4084-9ee7-bfa28a7fd63a",), "file s.json")


@pytest.mark.parametrize(("change", "message"), [
    ({"id": "Bad Id"}, 's.json: "id" is lower-case letters, digits, _ . and - (at most 79).'),
    ({"expect": []}, 's.json: "expect" lists the ids of the rules that should detect it '
                     "(at least one)."),
    ({"events": [{"source": "lims", "after_s": -1, "line": "x"}]},
     's.json, event 1: "after_s" is seconds from the start, 0 to 86400.'),
    ({"events": [{"source": "lims", "line": "a\nb"}]},
     's.json, event 1: "line" is one line (no line break).'),
    ({"extra": 1}, 's.json: unknown field "extra".'),
])
def test_a_scenario_file_is_refused_naming_the_field(change: dict[str, Any],
                                                     message: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(json.dumps({**VALID, **change}).encode(), name="s.json")
    assert str(refused.value) == message


def test_a_scenario_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"^s\.json: not UTF-8 \(byte 0\)\.$"):
        parse_scenario(b"\xff{}", name="s.json")


def _read_or_refusal(data: bytes) -> str:
    """The refusal's words, or "f.json: read" for a scenario that reads; anything else
    (a traceback) fails the test."""
    try:
        parse_scenario(data, name="f.json")
    except ScenarioError as exc:
        return str(exc)
    return "f.json: read"


@hsettings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_read_or_are_refused_in_words(data: bytes) -> None:
    assert _read_or_refusal(data).startswith("f.json")


@hsettings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(
                        ["id", "title", "description", "expect", "events", "source",
                         "after_s", "line", "techniques"]), inner, max_size=6),
                    max_leaves=20))
def test_any_json_reads_or_is_refused_in_words(value: Any) -> None:
    assert _read_or_refusal(json.dumps(value).encode()).startswith("f.json")


# --- ransomware on a copy ------------------------------------------------------------------


@pytest.fixture
def own_keys(settings: Any, tmp_path: Path) -> None:
    """Keys of this test's own (see platform/backups/tests/test_backups.own_keys)."""
    own_backup_keys(settings, tmp_path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_keys")
def test_the_copys_detection_is_a_new_alert_not_one_its_history_left_open(
        personas: dict[str, Any], settings: Any) -> None:
    """The backup holds an open audit-trail alert (the demo's history does): the copy's
    detection raises an alert of its own, timed from the attack."""
    from cyberqms.platform.accounts.services import site_create
    from cyberqms.platform.backups.services import backup_create
    from cyberqms.platform.core.events import emit_security_event
    from cyberqms.security.drills.planning import drill_plan
    from cyberqms.security.drills.scenarios import RANSOMWARE
    from cyberqms.security.monitoring import services

    settings.CYBERQMS_MONITOR_OWN_EVENTS = True
    services.reload_rules()
    site = site_create(actor=personas["admin"], code="BSL", name="Basel")
    record_in_state(kind_by_slug("deviations"), "open", personas, site=site)
    emit_security_event("trail.integrity.failure", severity="critical",
                        message="Audit-trail verification failed: entry 3 was altered")
    assert Alert.objects.filter(title="Audit-trail verification failed").count() == 1
    backup_create()
    drill = drill_plan(RANSOMWARE)
    DRILLS.workflow.run(drill, "run", actor=None, reason="Test")  # played on commit
    drill.refresh_from_db()
    detected = next(c for c in scorecard(drill)["checks"] if c["key"] == "detected")
    assert (detected["met"], detected["measured"]) == (True, "Audit-trail verification failed")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_keys")
def test_ransomware_on_a_copy_is_detected_and_recovered_from_the_backup_cyb_09(
        personas: dict[str, Any]) -> None:
    from cyberqms.platform.accounts.services import site_create
    from cyberqms.platform.backups.services import backup_create
    from cyberqms.security.drills.planning import drill_plan
    from cyberqms.security.drills.scenarios import RANSOMWARE

    site = site_create(actor=personas["admin"], code="BSL", name="Basel")
    record_in_state(kind_by_slug("deviations"), "open", personas, site=site)
    backup_create()
    drill = drill_plan(RANSOMWARE)
    DRILLS.workflow.run(drill, "run", actor=None, reason="Test")  # played on commit
    drill.refresh_from_db()
    card = scorecard(drill)
    assert ([(c["key"], c["met"]) for c in card["checks"]], card["measured"]["expected_alerts"]
            ) == ([("detected", True), ("detect_time", True), ("located", True),
                   ("recovered", True), ("recover_time", True)],
                  ["Audit-trail verification failed"])


# --- the home page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_home_page_of_it_security_shows_the_last_drill_with_its_score(
        personas: dict[str, Any], login: Any) -> None:
    drill = running(personas)
    page = login(personas["it_security"]).get("/")
    panel = page.text.split('data-testid="resilience"')[1].split("</section>")[0]
    assert (f"drill {drill.number}" in panel, "33 % so far" in panel,
            "no backup has been taken" in panel, "no restore has been tested" in panel) == (
        True, True, True, True)


@pytest.mark.django_db
def test_the_home_page_of_an_author_has_no_resilience_panel(
        personas: dict[str, Any], login: Any) -> None:
    page = login(personas["author"]).get("/")
    assert (page.status_code, 'data-testid="resilience"' in page.text) == (200, False)


@pytest.mark.django_db
def test_a_scenario_file_is_played_and_kept_in_the_catalogue(
        personas: dict[str, Any], settings: Any, tmp_path: Path, capsys: Any) -> None:
    from cyberqms.platform.accounts.services import site_create
    from cyberqms.security.drills.scenarios import scenario_of
    from cyberqms.security.monitoring.own_events import qms_source

    settings.CYBERQMS_DRILL_SCENARIO_DIR = tmp_path / "catalogue"
    site_create(actor=personas["admin"], code="BSL", name="Basel")
    source = qms_source()
    line = json.dumps({"created_at": "{time}", "kind": "auth.login.failure",
                       "severity": "low", "username": "treyes", "source_ip": "203.0.113.9",
                       "message": "Failed sign-in for treyes"})
    path = tmp_path / "spray.json"
    path.write_text(json.dumps({
        "id": "qms_brute_force_file", "title": "Brute force, from a file",
        "expect": ["24722c4b-87d8-4a98-ae99-f451f98aa1c9"],
        "events": [{"source": source.name, "after_s": i * 2, "line": line}
                   for i in range(12)]}), encoding="utf-8")
    call_command("drill", "run", str(path))
    drill = Drill.objects.get()
    assert (scenario_of("qms_brute_force_file") is not None, drill.events,
            list(Alert.objects.filter(drill=drill.number).values_list("title", flat=True)),
            (tmp_path / "catalogue" / "qms_brute_force_file.json").exists()) == (
        True, 12, [BRUTE_FORCE], True)


@pytest.mark.django_db
def test_the_pdf_copy_of_a_drill_prints_its_scorecard(
        personas: dict[str, Any], login: Any) -> None:
    import io

    from django.urls import reverse
    from pypdf import PdfReader

    drill = running(personas)
    response = login(personas["qa_manager"]).get(
        reverse("records:pdf", args=["drills", drill.pk]))
    text = " ".join("".join(p.extract_text() for p in PdfReader(
        io.BytesIO(response.content)).pages).split())
    assert (response.status_code, "Scorecard: 33 %" in text,
            "Detected by a rule expected to detect it yes Brute force against one account"
            in text) == (200, True, True)


@pytest.mark.django_db
def test_an_unannounced_running_drill_is_not_on_the_home_page(
        personas: dict[str, Any], login: Any) -> None:
    running(personas, announced=False)
    page = login(personas["it_security"]).get("/")
    panel = page.text.split('data-testid="last-drill"')[1].split("</p>")[0]
    assert "no attack drill has run" in panel


@pytest.mark.django_db
def test_a_scenario_file_may_not_take_the_id_of_another_scenario(
        settings: Any, tmp_path: Path) -> None:
    settings.CYBERQMS_DRILL_SCENARIO_DIR = tmp_path / "catalogue"
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({**VALID, "id": "brute_force_qms"}), encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("drill", "run", str(path))
    assert str(refused.value) == (
        "mine.json: the id 'brute_force_qms' is taken by 'Brute force on the QMS sign-in' "
        "(synthetic plant): give the scenario another id.")
