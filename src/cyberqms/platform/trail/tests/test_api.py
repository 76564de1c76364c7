"""The audit-trail API: proofs verify against signed checkpoints, exports verify offline,
verification and flags, reviews, and problem+json for bad input (P11-06, P11-08, AL-06,
A11-16, CYB-02)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from cyberqms.platform.accounts import services as account_services
from cyberqms.platform.core.models import SecurityEvent
from cyberqms.platform.trail import guards, keys
from cyberqms.platform.trail.log import trail_seal
from cyberqms.platform.trail.merkle import verify_consistency, verify_inclusion
from cyberqms.platform.trail.models import AuditEntry, IntegrityFlag, TrailReview
from cyberqms.platform.trail.verify import verify_export

pytestmark = pytest.mark.django_db

Login = Callable[[Any], Client]


@pytest.fixture
def trail(personas: dict[str, Any], trail_key: Path) -> dict[str, Any]:
    """Personas plus a few audited account changes, sealed."""
    admin = personas["admin"]
    created = [
        account_services.user_create(
            actor=admin, username=f"person{i}", full_name=f"Person {i}",
            email=f"p{i}@x.test", reason="API test",
        ).user
        for i in range(3)
    ]
    trail_seal()
    return {"personas": personas, "users": created}


def test_inclusion_proof_verifies_against_the_signed_root_p11_06(
    trail: dict[str, Any], login: Login
) -> None:
    client = login(trail["personas"]["auditor"])
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None
    for seq in (1, last.seq // 2, last.seq):
        body = client.get(f"/api/v1/trail/entries/{seq}/proof").json()
        assert body["seq"] == seq
        assert body["tree_size"] == last.seq
        assert verify_inclusion(
            bytes.fromhex(body["leaf_hash"]), seq - 1, body["tree_size"],
            [bytes.fromhex(h) for h in body["inclusion_proof"]], bytes.fromhex(body["root_hash"]),
        )
        assert body["checkpoint"].startswith(f"{keys.origin()}\n{last.seq}\n")


def test_consistency_proof_between_two_checkpoints(trail: dict[str, Any], login: Login) -> None:
    old = AuditEntry.objects.order_by("-seq").first()
    assert old is not None
    account_services.user_create(
        actor=trail["personas"]["admin"], username="later", full_name="Later Person",
        email="later@x.test", reason="API test",
    )
    trail_seal()
    client = login(trail["personas"]["it_security"])
    body = client.get(f"/api/v1/trail/consistency?old_size={old.seq}").json()
    assert body["old_size"] == old.seq
    assert body["new_size"] == AuditEntry.objects.count()
    assert verify_consistency(
        body["old_size"], body["new_size"], bytes.fromhex(body["old_root"]),
        bytes.fromhex(body["new_root"]), [bytes.fromhex(h) for h in body["consistency_proof"]],
    )


def test_proof_of_a_size_without_checkpoint_is_a_422_naming_the_field(
    trail: dict[str, Any], login: Login
) -> None:
    client = login(trail["personas"]["auditor"])
    response = client.get("/api/v1/trail/consistency?old_size=2")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "old_size"
    beyond = client.get("/api/v1/trail/entries/99999/proof")
    assert beyond.status_code == 422
    assert beyond.json()["errors"][0]["field"] == "seq"


def test_export_streams_a_file_the_standalone_verifier_accepts_al_06(
    trail: dict[str, Any], login: Login
) -> None:
    client = login(trail["personas"]["auditor"])
    response = client.get("/api/v1/trail/export?from_seq=2")
    assert response.status_code == 200
    content = response.streaming_content  # type: ignore[attr-defined]  # a streamed export
    lines = b"".join(content).split(b"\n")
    report = verify_export(lines, keys.verifier_keys())
    assert report.ok, report.summary()
    assert report.from_seq == 2
    # the export itself is audited (AL-09), right after the exported range
    export_entry = AuditEntry.objects.order_by("-seq").first()
    assert export_entry is not None
    assert export_entry.action == "trail.export.create"
    assert report.to_seq == export_entry.seq - 1
    assert export_entry.changes["seq_range"] == [None, [2, report.to_seq]]
    tampered = [line.replace(b"Person 1", b"Person 7") for line in lines]
    assert not verify_export(tampered, keys.verifier_keys()).ok


def test_history_shows_the_hashed_entries_of_a_record(trail: dict[str, Any], login: Login) -> None:
    user = trail["users"][0]
    client = login(trail["personas"]["qa_manager"])
    items = client.get(f"/api/v1/trail/history/accounts.user/{user.pk}").json()
    assert [i["entry"]["action"] for i in items] == ["accounts.user.create"]
    entry = items[0]["entry"]
    assert entry["changes"]["full_name"] == [None, "Person 0"]
    assert entry["changes"]["password"][1].startswith("sha256:")
    assert entry["actor"]["username"] == "admin"
    assert entry["reason"] == "API test"


def test_history_of_a_record_one_may_not_see_is_refused(
    trail: dict[str, Any], login: Login
) -> None:
    client = login(trail["personas"]["author"])
    user = trail["users"][0]
    # forbidden and missing answer alike: no oracle for which records exist
    assert client.get(f"/api/v1/trail/history/accounts.user/{user.pk}").status_code == 404
    assert client.get("/api/v1/trail/history/accounts.user/999999").status_code == 404
    assert client.get("/api/v1/trail/history/no.such/1").status_code == 404


def test_verify_now_records_a_passed_verification(trail: dict[str, Any], login: Login) -> None:
    client = login(trail["personas"]["it_security"])
    response = client.post(
        "/api/v1/trail/verifications", {"since_checkpoint": False, "reconcile": False},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["result"], body["mode"], body["first_problem"]) == ("passed", "full", "")
    assert body["entries_checked"] == AuditEntry.objects.filter(
        seq__lt=AuditEntry.objects.order_by("-seq").values_list("seq", flat=True)[0]
    ).count()


def test_tampered_user_is_flagged_in_the_user_api_and_resolution_is_audited_cyb_02(
    trail: dict[str, Any], login: Login
) -> None:
    victim = trail["users"][1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET full_name = 'Mallory' WHERE id = %s", [victim.pk])
    security = login(trail["personas"]["it_security"])
    result = security.post(
        "/api/v1/trail/verifications", {"reconcile": True}, content_type="application/json"
    ).json()
    assert result["result"] == "failed"
    assert any(
        p["object_id"] == str(victim.pk) and p["fields"] == ["full_name"]
        for p in result["problems"]
    )
    admin = login(trail["personas"]["admin"])
    assert admin.get(f"/api/v1/users/{victim.pk}").json()["integrity_failure"] is True
    flag = IntegrityFlag.objects.get(object_type="accounts.user", object_id=str(victim.pk))
    assert SecurityEvent.objects.filter(kind="trail.integrity.failure", severity="critical").exists()
    empty = security.post(f"/api/v1/trail/flags/{flag.pk}/resolve", {"reason": ""},
                          content_type="application/json")
    assert empty.status_code == 422
    resolved = security.post(
        f"/api/v1/trail/flags/{flag.pk}/resolve",
        {"reason": "HR confirmed the name change; record corrected through the app"},
        content_type="application/json",
    )
    assert resolved.status_code == 200
    assert resolved.json()["resolved_by"] == "it_security"
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None
    assert last.action == "trail.flag.resolve"
    assert admin.get(f"/api/v1/users/{victim.pk}").json()["integrity_failure"] is False


def test_review_by_an_independent_reviewer_a11_16(trail: dict[str, Any], login: Login) -> None:
    user = trail["users"][2]
    reviewer = login(trail["personas"]["qa_approver"])
    response = reviewer.post(
        "/api/v1/trail/reviews",
        {"scope": "record", "object_type": "accounts.user", "object_id": str(user.pk),
         "outcome": "no_findings"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["entries"], body["reviewer"], body["object_label"]) == (1, "qa_approver", "person2")
    review = TrailReview.objects.get(pk=body["id"])
    assert AuditEntry.objects.filter(
        action="trail.review.create", object_type="trail.review", object_id=str(review.pk)
    ).count() == 1


def test_review_input_errors_name_the_field(trail: dict[str, Any], login: Login) -> None:
    reviewer = login(trail["personas"]["qa_approver"])
    wrong = reviewer.post(
        "/api/v1/trail/reviews",
        {"scope": "everything", "outcome": "no_findings", "extra": 1},
        content_type="application/json",
    )
    assert wrong.status_code == 422
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert {"scope", "extra"} <= fields
    missing = reviewer.post(
        "/api/v1/trail/reviews",
        {"scope": "record", "object_type": "accounts.user", "object_id": "999999",
         "outcome": "no_findings"},
        content_type="application/json",
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "object_id"


def test_keys_and_status(trail: dict[str, Any], login: Login) -> None:
    client = login(trail["personas"]["auditor"])
    listed = client.get("/api/v1/trail/keys").json()
    assert [k["verifier_key"] for k in listed] == keys.verifier_keys()
    assert [k["current"] for k in listed] == [True]
    status = login(trail["personas"]["it_security"]).get("/api/v1/trail/status").json()
    assert status["entries"] == AuditEntry.objects.count()
    assert status["latest_checkpoint"]["size"] == status["sealed"]


def test_search_filters_by_record_and_action(trail: dict[str, Any], login: Login) -> None:
    user = trail["users"][0]
    client = login(trail["personas"]["auditor"])
    body = client.get(
        f"/api/v1/trail/entries?object_type=accounts.user&object_id={user.pk}"
    ).json()
    assert body["count"] == 1
    assert body["items"][0]["entry"]["object"]["id"] == str(user.pk)
    grants = client.get("/api/v1/trail/entries?action=accounts.role.&limit=500").json()
    assert grants["count"] == AuditEntry.objects.filter(action__startswith="accounts.role.").count()
    assert all(i["entry"]["action"].startswith("accounts.role.") for i in grants["items"])
    bad = client.get("/api/v1/trail/entries?since=yesterday")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "since"


def test_guards_stay_installed_after_a_test(db: Any) -> None:
    """The flush used between transactional tests restores the triggers it lifts."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'trail_%'"
            )
            names = sorted(row[0] for row in cursor.fetchall())
            assert names == sorted(
                f"{t}_no_{op}" for t in guards.APPEND_ONLY_TABLES for op in ("update", "delete")
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'trail_%' AND NOT tgisinternal"
            )
            assert len(cursor.fetchall()) == 2 * len(guards.APPEND_ONLY_TABLES)


def test_entry_json_is_the_stored_body(trail: dict[str, Any], login: Login) -> None:
    client = login(trail["personas"]["auditor"])
    entry = AuditEntry.objects.get(seq=1)
    body = client.get("/api/v1/trail/entries/1").json()
    assert body["entry"] == json.loads(entry.body)
    assert body["leaf_hash"] == bytes(entry.leaf_hash).hex()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/trail/history/accounts.user/%C2%B2",
        "/api/v1/trail/entries/99999999999999999999999",
        "/api/v1/trail/entries?until=9999-12-31T23:59:59",
        "/api/v1/trail/entries?offset=9999999999999999999999999",
    ],
)
def test_out_of_range_input_is_a_4xx_problem_never_a_500(
    trail: dict[str, Any], login: Login, url: str
) -> None:
    response = login(trail["personas"]["auditor"]).get(url)
    assert response.status_code in (404, 422)
    assert response["Content-Type"] == "application/problem+json"


def test_review_of_a_non_numeric_record_id_names_the_field(
    trail: dict[str, Any], login: Login
) -> None:
    response = login(trail["personas"]["qa_approver"]).post(
        "/api/v1/trail/reviews",
        {"scope": "record", "object_type": "accounts.user", "object_id": "abc",
         "outcome": "no_findings"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "object_id"
    far = login(trail["personas"]["qa_approver"]).post(
        "/api/v1/trail/reviews",
        {"scope": "range", "date_from": "2026-01-01", "date_to": "9999-12-31",
         "outcome": "no_findings"},
        content_type="application/json",
    )
    assert far.status_code == 422
    assert far.json()["errors"][0]["field"] == "date_to"


@pytest.mark.parametrize(("url", "error"), [
    ("/trail/?date_to=9999-12-31", "Enter a date before 9999."),
    ("/trail/?user=%C2%B2", "No user has this user ID."),
    ("/trail/export.csv?date_to=9999-12-31", "Enter a date before 9999."),
])
def test_pages_answer_bad_filters_400_naming_the_error(
    trail: dict[str, Any], login: Login, url: str, error: str
) -> None:
    response = login(trail["personas"]["qa_manager"]).get(url)
    assert (response.status_code, response["Content-Type"]) == (400, "text/html; charset=utf-8")
    assert f"<li>{error}</li>" in response.content.decode()


def test_a_review_prefilled_with_an_impossible_range_shows_no_preview(
    trail: dict[str, Any], login: Login
) -> None:
    response = login(trail["personas"]["qa_manager"]).get(
        "/trail/reviews/new/", {"scope": "range", "date_from": "2026-01-01",
                                "date_to": "9999-12-31"})
    assert (response.status_code, response.context["spec"],
            response.context["form"].initial["date_to"]) == (200, None, "9999-12-31")
