"""The generic record API (/api/v1/records/{kind}/{id}/…) on deviations: transitions with
problem+json refusals (P11-10, P11-11), signing by password only, never by token alone
(P11-27), lockout counting (P11-33), attachments (AL-04), comments, links (AL-10),
extensions, logical deletion (AL-06) and visibility (P11-05)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from cyberqms.conftest import PASSWORD
from cyberqms.platform.accounts.services import token_create
from cyberqms.platform.core.models import (
    Attachment,
    Comment,
    DueDateExtension,
    SecurityEvent,
    Signature,
)
from cyberqms.platform.kit.tests.files import pdf_file
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state, ready_to_sign

pytestmark = pytest.mark.django_db

TYPE = "deviations.deviation"
PROBLEM = "application/problem+json"
NOT_FOUND = "No such resource, or it is not visible to you."


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    ready_to_sign(personas["qa_manager"], personas["admin"])
    ready_to_sign(personas["qa_approver"], personas["admin"])
    return personas


@pytest.fixture
def site() -> Any:
    return a_site("MUC")


class Api:
    """A browser-like API client: session cookie plus the X-CSRFToken header."""

    def __init__(self, user: Any) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(
            user, backend="cyberqms.platform.accounts.backends.AuthenticationBackend"
        )
        page = self.client.get("/deviations/").content.decode()
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found is not None
        self.token = found.group(1)

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1/records/deviations/{path}")

    def post(self, path: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        url = f"/api/v1/records/deviations/{path}"
        if "data" in kw:  # multipart
            return self.client.post(url, kw["data"], headers={"X-CSRFToken": self.token})
        return self.client.post(url, body or {}, content_type="application/json",
                                headers={"X-CSRFToken": self.token})


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert (response.status_code, response["Content-Type"]) == (status, PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def _state(d: Deviation) -> str:
    return Deviation.objects.get(pk=d.pk).state


# --- transitions ----------------------------------------------------------------------------


def test_session_api_needs_the_csrf_header(people: dict[str, Any], site: Any) -> None:
    d = deviation_in_state(people, "draft", site=site)
    api = Api(people["author"])
    bare = api.client.post(f"/api/v1/records/deviations/{d.pk}/comments", {"body": "x"},
                           content_type="application/json")
    assert bare.status_code == 403
    assert Comment.objects.count() == 0
    assert api.post(f"{d.pk}/comments", {"body": "x"}).status_code == 201


def test_transition_not_allowed_is_409_with_allowed_actions_p11_10(
    people: dict[str, Any], site: Any
) -> None:
    d = deviation_in_state(people, "draft", site=site)
    body = _problem(Api(people["qa_manager"]).post(f"{d.pk}/transitions/approve"), 409)
    assert (body["title"], body["detail"], body["state"], body["allowed_actions"]) == (
        "Not possible in this state", "'approve' is not possible while the record is draft.",
        "draft", ["submit", "cancel"],
    )
    assert _state(d) == "draft"
    assert Signature.objects.count() == 0


def test_segregation_of_duties_is_403_p11_11(people: dict[str, Any], site: Any) -> None:
    reviewer = people["qa_approver"]
    cast = {**people, "author": reviewer, "qa_approver": people["qa_manager"]}
    d = deviation_in_state(cast, "qa_review", site=site)
    body = _problem(Api(reviewer).post(f"{d.pk}/transitions/approve", {"password": PASSWORD}),
                    403)
    assert (body["title"], body["detail"]) == (
        "Segregation of duties",
        "You are the originator of this record: someone else must take the step “Approve”.",
    )
    assert _state(d) == "qa_review"


def test_signed_transition_returns_the_manifestation_p11_19(
    people: dict[str, Any], site: Any
) -> None:
    reviewer = people["qa_approver"]
    d = deviation_in_state(people, "qa_review", site=site)
    api = Api(reviewer)
    detail = api.get(str(d.pk)).json()
    response = api.post(f"{d.pk}/transitions/approve", {
        "password": PASSWORD, "reason": "Root cause convincing",
        "expected_hash": detail["content_hash"],
    })
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "approved"
    [sig] = body["signatures"]
    row = Signature.objects.get()
    assert {k: sig[k] for k in ("id", "printed_name", "username", "meaning", "reason",
                                "components", "superseded", "record_hash")} == {
        "id": row.pk, "printed_name": reviewer.printed_name, "username": "qa_approver",
        "meaning": "Approved", "reason": "Root cause convincing", "components": "password",
        "superseded": False, "record_hash": body["content_hash"],
    }
    assert sig["signed_at"] == row.signed_at.isoformat()
    assert sig["text"] == (
        f"Approved by {reviewer.printed_name} on {sig['signed_at_display'][:23]}"
    )
    assert row.channel == "api"
    assert [a["action"] for a in body["available_actions"]] == ["close"]


def test_stale_expected_hash_signs_nothing_p11_20(people: dict[str, Any], site: Any) -> None:
    d = deviation_in_state(people, "qa_review", site=site)
    body = _problem(Api(people["qa_approver"]).post(f"{d.pk}/transitions/approve", {
        "password": PASSWORD, "expected_hash": "0" * 64,
    }), 409)
    assert body["state"] == "qa_review (changed since you opened it)"
    assert (_state(d), Signature.objects.count()) == ("qa_review", 0)


def test_wrong_password_is_403_naming_password_and_counts_toward_lockout_p11_33(
    people: dict[str, Any], site: Any, settings: Any
) -> None:
    reviewer = people["qa_approver"]
    d = deviation_in_state(people, "qa_review", site=site)
    api = Api(reviewer)
    body = _problem(api.post(f"{d.pk}/transitions/approve", {"password": "guess"}), 403)
    assert (body["title"], body["errors"][0]["field"]) == ("Signature refused", "password")
    assert (_state(d), Signature.objects.count()) == ("qa_review", 0)
    assert AccessAttempt.objects.get(username="qa_approver").failures_since_start == 1
    assert AccessFailureLog.objects.filter(username="qa_approver").count() == 1
    assert SecurityEvent.objects.filter(kind="esig.failure", username="qa_approver").count() == 1
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        api.post(f"{d.pk}/transitions/approve", {"password": "guess"})
    assert AccessAttempt.objects.get(username="qa_approver").failures_since_start == limit
    # Locked: even the right password no longer signs.
    locked = _problem(api.post(f"{d.pk}/transitions/approve", {"password": PASSWORD}), 403)
    assert (locked["errors"], locked["attempts_left"]) == (
        [{"field": "password", "message": "The account is locked after failed attempts."}], 0
    )
    assert (_state(d), Signature.objects.count()) == ("qa_review", 0)


def test_a_refused_signature_names_the_field_and_the_attempts_left_p11_33(
    people: dict[str, Any], site: Any, settings: Any
) -> None:
    """P11-33: the problem names the input at fault and the failed attempts left before the
    lockout, counted by the one counter that locks the account."""
    settings.AXES_FAILURE_LIMIT = 3
    d = deviation_in_state(people, "qa_review", site=site)
    api = Api(people["qa_approver"])
    first = _problem(api.post(f"{d.pk}/transitions/approve", {"password": "guess"}), 403)
    second = _problem(api.post(f"{d.pk}/transitions/approve", {"password": "guess"}), 403)
    text = "Not signed: wrong password. {} left before the account is locked."
    assert [(b["detail"], b["errors"], b["attempts_left"]) for b in (first, second)] == [
        (text.format("2 attempts"), [{"field": "password", "message": text.format("2 attempts")}],
         2),
        (text.format("1 attempt"), [{"field": "password", "message": text.format("1 attempt")}],
         1),
    ]


def test_missing_reason_is_422_naming_reason(people: dict[str, Any], site: Any) -> None:
    d = deviation_in_state(people, "qa_review", site=site)
    api = Api(people["qa_approver"])
    body = _problem(api.post(f"{d.pk}/transitions/return", {"reason": "  "}), 422)
    assert body["errors"] == [{"field": "reason", "message": "A reason is required."}]
    assert _state(d) == "qa_review"
    done = api.post(f"{d.pk}/transitions/return", {"reason": "Root cause too vague"})
    assert (done.status_code, done.json()["state"]) == (200, "investigation")
    [entry] = AuditEntry.objects.filter(action=f"{TYPE}.return", object_id=str(d.pk))
    assert entry.reason == "Root cause too vague"


def test_first_signature_needs_accept_statement_p11_14(
    people: dict[str, Any], site: Any, make_user: Any
) -> None:
    from cyberqms.platform.accounts.services import user_verify_identity

    newcomer = make_user("reviewer2", "qa_reviewer")
    user_verify_identity(newcomer, actor=people["admin"], method="Passport")
    d = deviation_in_state(people, "qa_review", site=site)
    api = Api(newcomer)
    body = _problem(api.post(f"{d.pk}/transitions/approve", {"password": PASSWORD}), 403)
    assert [e["field"] for e in body["errors"]] == ["accept_statement"]
    assert _state(d) == "qa_review"
    signed = api.post(f"{d.pk}/transitions/approve",
                      {"password": PASSWORD, "accept_statement": True})
    assert (signed.status_code, signed.json()["state"]) == (200, "approved")


def test_api_token_without_password_cannot_sign_p11_27(
    people: dict[str, Any], site: Any
) -> None:
    reviewer = people["qa_approver"]
    d = deviation_in_state(people, "qa_review", site=site)
    issued = token_create(actor=reviewer, owner=reviewer, name="script",
                          scopes=["records.use", "deviations.*"], days=5)
    client = Client(headers={"Authorization": f"Bearer {issued.secret}"})
    url = f"/api/v1/records/deviations/{d.pk}"
    assert client.get(url).status_code == 200
    body = _problem(client.post(f"{url}/transitions/approve", {},
                                content_type="application/json"), 403)
    assert body["errors"] == [{"field": "password", "message":
                               "An API token cannot sign: supply your password (and code)."}]
    assert (_state(d), Signature.objects.count()) == ("qa_review", 0)


# --- shared parts ---------------------------------------------------------------------------


def test_attachment_upload_list_and_download(people: dict[str, Any], site: Any) -> None:
    d = deviation_in_state(people, "draft", site=site)
    api = Api(people["author"])
    data = pdf_file("Batch record, page 4")
    created = api.post(f"{d.pk}/attachments", data={
        "file": SimpleUploadedFile("batch record.pdf", data, content_type="application/pdf"),
        "description": "Batch record page 4",
    })
    assert created.status_code == 201
    att = Attachment.objects.get()
    assert created.json() == {
        "id": att.pk, "filename": "batch record.pdf", "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "content_type": "application/pdf",
    }
    [listed] = api.get(f"{d.pk}/attachments").json()
    assert (listed["id"], listed["sha256"], listed["uploaded_by"], listed["removed"]) == (
        att.pk, hashlib.sha256(data).hexdigest(), "author", False
    )
    download = api.get(f"{d.pk}/attachments/{att.pk}")
    assert (download.status_code, download.content, download["Content-Disposition"]) == (
        200, data, 'attachment; filename="batch record.pdf"'
    )


def test_a_non_latin_attachment_name_downloads_under_its_own_name(
        people: dict[str, Any], site: Any) -> None:
    """RFC 6266/5987: the name travels as UTF-8 (filename*), not mangled or refused."""
    d = deviation_in_state(people, "draft", site=site)
    api = Api(people["author"])
    data = pdf_file("Batch record, page 4")
    api.post(f"{d.pk}/attachments", data={
        "file": SimpleUploadedFile("Prüfbericht – Charge 7.pdf", data,
                                   content_type="application/pdf")})
    att = Attachment.objects.get()
    download = api.get(f"{d.pk}/attachments/{att.pk}")
    assert (download.status_code, download["Content-Disposition"]) == (
        200, "attachment; filename*=utf-8''Pr%C3%BCfbericht%20%E2%80%93%20Charge%207.pdf")


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("script.sh", b"#!/bin/sh\n", "Files of type '.sh' are not accepted; allowed: "
     "csv, docx, jpeg, jpg, json, log, pdf, png, txt, xlsx, xml, zip."),
    ("fake.pdf", b"MZ\x90\x00", "The content is not a .pdf file."),
])
def test_disallowed_attachment_is_422_naming_file(
    people: dict[str, Any], site: Any, filename: str, data: bytes, message: str
) -> None:
    d = deviation_in_state(people, "draft", site=site)
    response = Api(people["author"]).post(f"{d.pk}/attachments", data={
        "file": SimpleUploadedFile(filename, data)})
    assert _problem(response, 422)["errors"] == [{"field": "file", "message": message}]
    assert Attachment.objects.count() == 0


def test_oversize_attachment_is_422_naming_file(
    people: dict[str, Any], site: Any, settings: Any
) -> None:
    settings.CYBERQMS_ATTACHMENT_MAX_BYTES = 1024
    d = deviation_in_state(people, "draft", site=site)
    response = Api(people["author"]).post(f"{d.pk}/attachments", data={
        "file": SimpleUploadedFile("big.txt", b"x" * 1025)})
    assert _problem(response, 422)["errors"] == [
        {"field": "file", "message": "The file is larger than 1 KiB."}
    ]


def test_comments(people: dict[str, Any], site: Any) -> None:
    d = deviation_in_state(people, "open", site=site)
    api = Api(people["author"])
    created = api.post(f"{d.pk}/comments", {"body": " Door seal ordered. "})
    assert created.status_code == 201
    c = Comment.objects.get()
    assert created.json() == {"id": c.pk, "body": "Door seal ordered.",
                              "created_at": c.created_at.isoformat()}
    assert _problem(api.post(f"{d.pk}/comments", {"body": "  "}), 422)["errors"] == [
        {"field": "body", "message": "Write something first."}
    ]
    assert [x["body"] for x in api.get(str(d.pk)).json()["comments"]] == ["Door seal ordered."]


def test_links_both_ways_and_removal_al_10(people: dict[str, Any], site: Any) -> None:
    a = deviation_in_state(people, "draft", site=site)
    b = deviation_in_state(people, "open", site=site)
    api = Api(people["author"])
    created = api.post(f"{a.pk}/links", {"target": b.number, "relation": "related"})
    assert created.status_code == 201
    link_id = created.json()["id"]
    assert created.json() == {"id": link_id, "to": b.label, "relation": "related"}
    assert [(x["direction"], x["number"]) for x in api.get(str(a.pk)).json()["links"]] == [
        ("outgoing", b.number)
    ]
    assert [(x["direction"], x["number"]) for x in api.get(str(b.pk)).json()["links"]] == [
        ("incoming", a.number)
    ]
    assert _problem(api.post(f"{a.pk}/links", {"target": b.number}), 422)["errors"] == [
        {"field": "target", "message": f"{b.number} is already linked."}
    ]
    assert _problem(api.post(f"{a.pk}/links", {"target": a.number}), 422)["errors"] == [
        {"field": "target", "message": "A record cannot be linked to itself."}
    ]
    no_reason = api.post(f"{a.pk}/links/{link_id}/remove", {"reason": ""})
    assert _problem(no_reason, 422)["errors"] == [
        {"field": "reason", "message": "A reason is required."}
    ]
    removed = api.post(f"{a.pk}/links/{link_id}/remove", {"reason": "Not related"})
    assert (removed.status_code, removed.json()) == (200, {"id": link_id, "removed": True})
    assert api.get(str(b.pk)).json()["links"] == []


def test_extension_request_and_decision(people: dict[str, Any], site: Any) -> None:
    owner, manager = people["process_owner"], people["qa_manager"]
    due = timezone.localdate() + dt.timedelta(days=10)
    wanted = due + dt.timedelta(days=20)
    d = deviation_in_state(people, "open", site=site, due_date=due)
    mine = Api(owner)
    created = mine.post(f"{d.pk}/extensions", {"requested_due": wanted.isoformat(),
                                               "justification": "Lab backlog"})
    assert created.status_code == 201
    ext = DueDateExtension.objects.get()
    assert created.json() == {"id": ext.pk, "state": "pending",
                              "requested_due": wanted.isoformat()}
    own = _problem(mine.post(f"{d.pk}/extensions/{ext.pk}/decision", {"approve": True}), 403)
    assert own["detail"] == "You asked for this extension; someone else must decide it."
    qa = Api(manager)
    assert _problem(qa.post(f"{d.pk}/extensions/{ext.pk}/decision", {"approve": False}),
                    422)["errors"] == [
        {"field": "note", "message": "Say why the extension is rejected."}
    ]
    decided = qa.post(f"{d.pk}/extensions/{ext.pk}/decision", {"approve": True})
    assert (decided.status_code, decided.json()) == (200, {"id": ext.pk, "state": "approved"})
    assert qa.get(str(d.pk)).json()["due_date"] == wanted.isoformat()
    early = mine.post(f"{d.pk}/extensions", {"requested_due": due.isoformat(),
                                             "justification": "again"})
    assert _problem(early, 422)["errors"] == [{"field": "requested_due", "message":
        f"The new due date must be after the current one ({wanted.isoformat()})."}]


def test_logical_delete_needs_a_reason_al_06(people: dict[str, Any], site: Any) -> None:
    d = deviation_in_state(people, "draft", site=site)
    api = Api(people["author"])
    assert _problem(api.post(f"{d.pk}/delete", {"reason": " "}), 422)["errors"] == [
        {"field": "reason", "message": "A reason is required."}
    ]
    missing = _problem(api.post(f"{d.pk}/delete", {}), 422)
    assert [e["field"] for e in missing["errors"]] == ["reason"]
    deleted = api.post(f"{d.pk}/delete", {"reason": "Duplicate of another entry"})
    assert (deleted.status_code, deleted.json()["deleted"],
            deleted.json()["available_actions"]) == (200, True, [])
    kept = Deviation.objects.get(pk=d.pk)
    assert (kept.is_deleted, kept.deleted_reason) == (True, "Duplicate of another entry")
    opened = deviation_in_state(people, "open", site=site)
    assert _problem(api.post(f"{opened.pk}/delete", {"reason": "x"}), 422)["errors"] == [
        {"field": "__all__",
         "message": f"{opened.number} is open; only records in draft can be deleted."}
    ]


# --- visibility ----------------------------------------------------------------------------


def test_invisible_or_missing_record_is_404_problem_p11_05(
    people: dict[str, Any], site: Any, make_user: Any
) -> None:
    elsewhere = deviation_in_state(people, "draft", site=a_site("BER"))
    here = deviation_in_state(people, "draft", site=site)
    api = Api(make_user("muc_author", "author", site=site))
    assert api.get(str(here.pk)).status_code == 200
    for response in (
        api.get(str(elsewhere.pk)),
        api.get(f"{elsewhere.pk}/attachments"),
        api.get(f"{elsewhere.pk}/export"),
        api.post(f"{elsewhere.pk}/comments", {"body": "hi"}),
        api.post(f"{elsewhere.pk}/transitions/submit"),
        api.post(f"{elsewhere.pk}/delete", {"reason": "x"}),
        api.get("99999999"),
        api.client.get(f"/api/v1/records/nosuchkind/{here.pk}"),
    ):
        assert _problem(response, 404)["detail"] == NOT_FOUND
    assert (_state(elsewhere), Comment.objects.count()) == ("draft", 0)
    assert Deviation.objects.get(pk=elsewhere.pk).is_deleted is False
