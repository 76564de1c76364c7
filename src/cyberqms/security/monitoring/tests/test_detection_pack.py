"""The shipped GxP rule pack: every rule fires on its scenario and not on a near miss.

Requirements: CYB-04 (Sigma rules raise alerts with severity), P11-33 (brute force),
A11-20/CYB-07 (role changes), P11-02/CYB-02 (audit-trail verification), P11-16/CYB-06
(configuration change control).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from cyberqms.security.detect.detection import SHIPPED_RULES_DIR, Engine, load_rules
from cyberqms.security.detect.detection.loader import rule_files

MINUTE = 60_000
PACK = load_rules([SHIPPED_RULES_DIR])


def test_pack_loads_without_errors() -> None:
    engine = Engine(PACK)
    assert [str(e) for e in PACK.errors] == []
    assert [str(e) for e in engine.errors] == []
    assert len(engine.rules) == 16


@pytest.mark.parametrize("path", rule_files(SHIPPED_RULES_DIR), ids=lambda p: p.name)
def test_every_rule_has_the_pack_metadata(path: Any) -> None:
    for document in yaml.safe_load_all(path.read_text()):
        assert uuid.UUID(document["id"]).version == 4
        for key in ("title", "status", "description", "author", "date", "level"):
            assert document.get(key), f"{path.name}: {key} missing"
        assert document["level"] in {"informational", "low", "medium", "high", "critical"}
        requirements = document["requirements"]
        assert "CYB-04" in requirements
        assert all(re.fullmatch(r"(P11|A11D?|DI|AL|CYB)-\d\d", r) for r in requirements)
        if document["level"] != "informational":
            techniques = [t for t in document["tags"] if re.fullmatch(r"attack\.t\d{4}(\.\d{3})?", t)]
            assert techniques, f"{path.name}: {document['title']} has no ATT&CK technique"


def ev(**fields: Any) -> dict[str, Any]:
    """Build a nested event from dotted keyword names (`actor__user__name` → actor.user.name)."""
    event: dict[str, Any] = {}
    for dotted, value in fields.items():
        *parents, leaf = dotted.split("__")
        node = event
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return event


def failed_logon(user: str, ip: str, minute: float) -> dict[str, Any]:
    return ev(
        class_uid=3002,
        activity_id=1,
        status="Failure",
        time=int(minute * MINUTE),
        actor__user__name=user,
        src_endpoint__ip=ip,
    )


def failed_logon_from_host(user: str, host: str, minute: float) -> dict[str, Any]:
    """A failed logon whose source is named, not addressed (PAM's rhost after reverse DNS)."""
    return ev(class_uid=3002, activity_id=1, status="Failure", time=int(minute * MINUTE),
              actor__user__name=user, src_endpoint__hostname=host)


def record_change(user: str, minute: float, activity: int = 4) -> dict[str, Any]:
    return ev(
        class_uid=1001,
        activity_id=activity,
        time=int(minute * MINUTE),
        actor__user__name=user,
        file__name="batch.pdf",
    )


def role_grant(change_ref: str | None) -> dict[str, Any]:
    return ev(
        class_uid=3001,
        activity_id=7,
        time=0,
        actor__user__name="it.admin",
        user__name="ana",
        privileges=["QA_Approver"],
        gxp__change_ref=change_ref,
    )


def record_edit(hour: int, weekday: int = 3, ip: str = "10.1.2.3") -> dict[str, Any]:
    return ev(
        class_uid=6003,
        activity_id=3,
        time=0,
        actor__user__name="ana",
        src_endpoint__ip=ip,
        gxp__record_type="batch_record",
        gxp__hour=hour,
        gxp__weekday=weekday,
    )


def trail_finding(title: str) -> dict[str, Any]:
    return ev(
        class_uid=2004,
        time=0,
        metadata__product__name="cyberqms",
        finding_info__title=title,
        finding_info__uid="trail.check.42",
    )


def ot_change(kind: str, change_ref: str | None, state: str | None = None) -> dict[str, Any]:
    event = ev(
        class_uid=5019,
        time=0,
        actor__user__name="eng1",
        gxp__system=f"LINE3-{kind}",
        gxp__system_kind=kind,
        gxp__change_ref=change_ref,
    )
    if state is not None:
        event["gxp"]["change_state"] = state
    return event


Scenario = Callable[[], list[dict[str, Any]]]

# title → (positive sequence, near-miss sequence)
SCENARIOS: dict[str, tuple[Scenario, Scenario]] = {
    "Brute force against one account": (
        lambda: [failed_logon("ana", "10.9.9.9", m * 0.5) for m in range(10)],
        # nine within five minutes, the tenth after the first left the window
        lambda: [failed_logon("ana", "10.9.9.9", m * 0.5) for m in range(9)]
        + [failed_logon("ana", "10.9.9.9", 5.1)],
    ),
    "Brute force against one account from a named host": (
        lambda: [failed_logon_from_host("root", "dsl-1.example.net", m * 0.5) for m in range(10)],
        # nine by name; the tenth gives the address too: the address rule's
        lambda: [failed_logon_from_host("root", "dsl-1.example.net", m * 0.5) for m in range(9)]
        + [ev(class_uid=3002, activity_id=1, status="Failure", time=int(4.5 * MINUTE),
              actor__user__name="root", src_endpoint__hostname="dsl-1.example.net",
              src_endpoint__ip="10.9.9.7")],
    ),
    "Password spraying from one source": (
        lambda: [failed_logon(f"user{i}", "10.9.9.8", i) for i in range(10)],
        lambda: [failed_logon(f"user{i}", "10.9.9.8", i) for i in range(9)]
        + [failed_logon("user0", "10.9.9.8", 9.5)],
    ),
    "Privileged role granted outside change control": (
        lambda: [
            role_grant(None),
            ev(class_uid=3001, activity_id=7, policy__name="qa_manager"),
            ev(class_uid=3001, activity_id=7, group__name="GxP-LIMS-Administrators"),
        ],
        lambda: [
            role_grant("CC-2026-0042"),
            ev(class_uid=3001, activity_id=7, policy__name="qa_reviewer"),
        ],
    ),
    "GxP record modified off-hours or from an unusual host": (
        lambda: [record_edit(hour=2), record_edit(hour=11, weekday=7), record_edit(11, ip="8.8.8.8")],
        lambda: [record_edit(hour=6), record_edit(hour=21, weekday=5)],
    ),
    "Mass modification or deletion by one account": (
        lambda: [record_change("svc", m * 0.05, activity=3 + m % 3) for m in range(50)],
        lambda: [record_change("svc", m * 0.05) for m in range(49)]
        + [record_change("other", 2.5)]
        + [ev(class_uid=1001, activity_id=2, time=2.6 * MINUTE, actor__user__name="svc")],
    ),
    "Audit-trail verification failed": (
        lambda: [
            trail_finding("Audit trail checkpoint signature mismatch"),
            ev(
                class_uid=2004,
                metadata__product__name="cyberqms",
                metadata__event_code="trail.integrity.failure",
                message="entry 73683 hash does not match its content",
            ),
        ],
        lambda: [trail_finding("Audit trail checkpoint verified")],
    ),
    "Access drift found": (
        lambda: [ev(class_uid=2004, metadata__product__name="cyberqms",
                    metadata__event_code="access.finding.raised",
                    message="Access finding AF-2026-0011: rfischer: Process owner and QA "
                            "manager at BSL")],
        lambda: [ev(class_uid=2004, metadata__product__name="cyberqms",
                    metadata__event_code="trail.seq.voided"),
                 ev(class_uid=3001, activity_id=7, metadata__product__name="cyberqms",
                    metadata__event_code="account.role_granted")],
    ),
    "Restore test failed": (
        lambda: [ev(class_uid=2004, metadata__product__name="cyberqms",
                    metadata__event_code="backup.restore_test.failed",
                    message="Restore test RST-2026-0003 failed: part database.sqlite3, "
                            "chunk 2 of 7 does not decrypt")],
        lambda: [ev(class_uid=6003, metadata__product__name="cyberqms",
                    metadata__event_code="backup.restored"),
                 ev(class_uid=2004, metadata__product__name="cyberqms",
                    metadata__event_code="trail.seq.voided")],
    ),
    "Activity by a disabled or departed user": (
        lambda: [
            ev(class_uid=6003, activity_id=2, actor__user__name="old", actor__user__disabled=True),
            ev(class_uid=3002, activity_id=1, actor__user__name="gone", gxp__user_status="Departed"),
        ],
        lambda: [
            ev(class_uid=6003, activity_id=2, actor__user__name="ana", actor__user__disabled=False),
            ev(class_uid=3002, activity_id=1, actor__user__name="ana", gxp__user_status="active"),
        ],
    ),
    "Bulk export of GxP records": (
        lambda: [ev(class_uid=6003, api__operation="records.export", gxp__record_count=1000)],
        lambda: [ev(class_uid=6003, api__operation="records.export", gxp__record_count=999)],
    ),
    "New administrator account": (
        lambda: [
            ev(class_uid=3001, activity_id=1, user__name="adm2", user__type="Admin"),
            ev(class_uid=3001, activity_id=1, user__name="adm3", privileges=["SuperUser"]),
        ],
        lambda: [
            ev(class_uid=3001, activity_id=1, user__name="ana", user__type="User"),
            ev(class_uid=3001, activity_id=7, user__name="ana", user__type="Admin"),
        ],
    ),
    "PLC or SCADA configuration change without approved change control": (
        lambda: [
            ot_change("PLC", None),
            ot_change("SCADA", "CC-7", state="draft"),
            ev(class_uid=0, gxp__system="plc", message="Block FB12 downloaded to CPU"),
        ],
        lambda: [
            ot_change("PLC", "CC-7"),
            ot_change("SCADA", "CC-7", "approved"),
            ot_change("LIMS", None),
            ev(class_uid=0, gxp__system="scada", message="Setpoint changed within validated range"),
        ],
    ),
}


def test_every_alerting_rule_has_a_scenario() -> None:
    alerting = {r.title for r in Engine(PACK).rules if r.level != "informational"}
    assert alerting == set(SCENARIOS)


@pytest.mark.parametrize("title", sorted(SCENARIOS))
def test_rule_fires_on_its_scenario(title: str) -> None:
    positive, _ = SCENARIOS[title]
    events = positive()
    engine = Engine(PACK)
    [rule] = [r for r in engine.rules if r.title == title]
    titles = [m.title for m in engine.evaluate_many(events)]
    # a correlation fires once for its sequence; a single-event rule on every event
    assert titles.count(title) == (1 if rule.correlation else len(events))
    assert set(titles) == {title}


@pytest.mark.parametrize("title", sorted(SCENARIOS))
def test_rule_stays_quiet_on_the_near_miss(title: str) -> None:
    _, near_miss = SCENARIOS[title]
    assert [m.title for m in Engine(PACK).evaluate_many(near_miss())] == []


def test_brute_force_alert_names_the_account_and_source() -> None:
    events = [failed_logon("ana", "10.9.9.9", m * 0.5) for m in range(10)]
    matches = Engine(PACK).evaluate_many(events)
    [match] = [m for m in matches if m.title == "Brute force against one account"]
    assert match.level == "high"
    assert match.group == (("actor.user.name", "ana"), ("src_endpoint.ip", "10.9.9.9"))
    assert match.count == 10
    assert match.techniques == ("T1110.001",)
    assert match.requirements == ("P11-33", "A11-19", "CYB-04")
