"""The shared parts of quality records, exercised on deviations through the services:
numbering, encrypted attachments (P11-17, AL-04), comments, links both ways (AL-10),
due-date extensions, logical deletion (AL-06), late entries (AL-03), and the audit entries
each write leaves in the parent record's history (P11-06)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.core.models import Attachment, Comment, DueDateExtension, RecordLink
from cyberqms.platform.kit import attachments as crypto
from cyberqms.platform.kit.attachments import AttachmentIntegrityError
from cyberqms.platform.kit.record_parts import (
    RecordClosed,
    attachment_add,
    attachment_read,
    attachment_remove,
    comment_add,
    extension_decide,
    extension_request,
    link_add,
    link_remove,
    links_of,
    record_delete,
)
from cyberqms.platform.kit.records import check_due_date, check_event_time, next_number
from cyberqms.platform.kit.tests.files import pdf_file
from cyberqms.platform.trail.models import AuditEntry
from cyberqms.platform.trail.queries import record_history
from cyberqms.quality.deviations import services
from cyberqms.quality.deviations.models import Deviation
from cyberqms.quality.deviations.tests.factories import a_site, deviation_in_state, ready_to_sign

pytestmark = pytest.mark.django_db

TYPE = "deviations.deviation"
PDF = pdf_file("Data logger report, cold room 2")


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    ready_to_sign(personas["qa_manager"], personas["admin"])
    ready_to_sign(personas["qa_approver"], personas["admin"])
    return personas


@pytest.fixture
def site() -> Any:
    return a_site("MUC")


def _entries(action: str, object_type: str, object_id: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(
        action=action, object_type=object_type, object_id=str(object_id)
    ).order_by("seq"))


def _history(d: Deviation) -> list[str]:
    return list(record_history(TYPE, str(d.pk)).order_by("seq").values_list("action", flat=True))


# --- numbering ----------------------------------------------------------------------------


def test_numbers_are_sequential_per_prefix_and_year(people: dict[str, Any], site: Any) -> None:
    """AL-07: human identifiers DEV-YYYY-NNNN, gap-free and never shared."""
    year = timezone.now().year
    made = [deviation_in_state(people, "draft", site=site) for _ in range(3)]
    assert [d.number for d in made] == [f"DEV-{year}-{n:04d}" for n in (1, 2, 3)]
    assert Deviation.objects.values("number").distinct().count() == 3
    assert next_number("TST") == f"TST-{year}-0001"
    assert next_number("TST") == f"TST-{year}-0002"
    earlier = dt.datetime(2020, 6, 1, tzinfo=dt.UTC)
    assert next_number("TST", earlier) == "TST-2020-0001"
    assert next_number("DEV") == f"DEV-{year}-0004"


# --- attachments ----------------------------------------------------------------------------


def test_attachment_is_encrypted_hashed_and_reads_back_p11_17_al_04(
    people: dict[str, Any], site: Any
) -> None:
    author = people["author"]
    d = deviation_in_state(people, "draft", site=site)
    att = attachment_add(d, actor=author, filename="C:\\scans\\logger report.pdf", data=PDF,
                         description="  Logger print-out  ")
    stored = Attachment.objects.get(pk=att.pk)
    ciphertext = bytes(stored.ciphertext)
    assert ciphertext != PDF
    assert PDF not in ciphertext
    assert b"%PDF-" not in ciphertext
    assert len(bytes(stored.nonce)) == 12
    assert len(ciphertext) == len(PDF) + 16  # AES-GCM tag
    assert (stored.filename, stored.content_type, stored.size, stored.sha256,
            stored.key_id, stored.description, stored.uploaded_by_id) == (
        "logger report.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest(),
        crypto.key_id(), "Logger print-out", author.pk,
    )
    assert (stored.record_type, stored.record_id) == (TYPE, str(d.pk))
    assert attachment_read(stored) == PDF
    [entry] = _entries("core.attachment.add", "core.attachment", att.pk)
    assert entry.actor_id == author.pk
    assert "ciphertext" not in entry.changes
    assert entry.changes["sha256"] == [None, hashlib.sha256(PDF).hexdigest()]


@pytest.mark.parametrize("column", ["ciphertext", "nonce"])
def test_altered_ciphertext_or_nonce_fails_authentication_p11_02(
    people: dict[str, Any], site: Any, column: str
) -> None:
    d = deviation_in_state(people, "draft", site=site)
    att = attachment_add(d, actor=people["author"], filename="a.pdf", data=PDF)
    original = bytes(getattr(att, column))
    altered = bytes([original[0] ^ 0x01]) + original[1:]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE core_attachment SET {column} = %s WHERE id = %s",
                       [altered, att.pk])
    with pytest.raises(AttachmentIntegrityError) as failed:
        attachment_read(Attachment.objects.get(pk=att.pk))
    assert str(failed.value) == "the stored file failed authentication"


def test_ciphertext_moved_to_another_record_or_rehashed_fails_p11_02(
    people: dict[str, Any], site: Any
) -> None:
    """The record and the SHA-256 are bound as associated data."""
    d = deviation_in_state(people, "draft", site=site)
    other = deviation_in_state(people, "draft", site=site)
    att = attachment_add(d, actor=people["author"], filename="a.pdf", data=PDF)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_attachment SET record_id = %s WHERE id = %s",
                       [str(other.pk), att.pk])
    with pytest.raises(AttachmentIntegrityError):
        attachment_read(Attachment.objects.get(pk=att.pk))
    forged = hashlib.sha256(b"something else").hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_attachment SET record_id = %s, sha256 = %s WHERE id = %s",
                       [str(d.pk), forged, att.pk])
    with pytest.raises(AttachmentIntegrityError):
        attachment_read(Attachment.objects.get(pk=att.pk))


ALLOWED = "csv, docx, jpeg, jpg, json, log, pdf, png, txt, xlsx, xml, zip"


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("tool.exe", b"MZ\x90\x00\x03", f"Files of type '.exe' are not accepted; allowed: {ALLOWED}."),
    ("x.pdf", b"MZ\x90\x00\x03\x00\x00\x00", "The content is not a .pdf file."),
    ("photo.png", b"GIF89a....", "The content is not a .png file."),
    ("empty.txt", b"", "The file is empty."),
    ("notes.txt", b"line one\x00line two", "A text file may not contain NUL bytes."),
    ("latin.csv", "café;1".encode("latin-1"), "A text file must be UTF-8."),
    ("README", b"plain words", "The file name needs an extension."),
    ("..", b"plain words", "The file needs a name."),
])
def test_attachment_refusals_name_the_file_field(
    people: dict[str, Any], site: Any, filename: str, data: bytes, message: str
) -> None:
    d = deviation_in_state(people, "draft", site=site)
    with pytest.raises(ValidationError) as refused:
        attachment_add(d, actor=people["author"], filename=filename, data=data)
    assert refused.value.message_dict == {"file": [message]}
    assert Attachment.objects.count() == 0
    assert AuditEntry.objects.filter(action="core.attachment.add").count() == 0


def test_attachment_over_the_size_limit_is_refused(
    people: dict[str, Any], site: Any, settings: Any
) -> None:
    settings.CYBERQMS_ATTACHMENT_MAX_BYTES = 2048
    d = deviation_in_state(people, "draft", site=site)
    with pytest.raises(ValidationError) as refused:
        attachment_add(d, actor=people["author"], filename="big.txt", data=b"a" * 2049)
    assert refused.value.message_dict == {"file": ["The file is larger than 2 KiB."]}
    exact = attachment_add(d, actor=people["author"], filename="fits.txt", data=b"a" * 2048)
    assert exact.size == 2048
    assert Attachment.objects.count() == 1


def test_no_attachments_on_closed_records(people: dict[str, Any], site: Any) -> None:
    closed = deviation_in_state(people, "closed", site=site)
    with pytest.raises(RecordClosed) as refused:
        attachment_add(closed, actor=people["qa_manager"], filename="late.pdf", data=PDF)
    assert refused.value.message_dict == {
        "__all__": [f"{closed.number} is closed: it cannot be given new attachments."]
    }
    cancelled = deviation_in_state(people, "cancelled", site=site)
    with pytest.raises(RecordClosed) as refused:
        attachment_add(cancelled, actor=people["author"], filename="late.pdf", data=PDF)
    assert refused.value.message_dict == {
        "__all__": [f"{cancelled.number} is cancelled: it cannot be given new attachments."]
    }
    assert Attachment.objects.count() == 0


def test_attachment_needs_the_edit_right_p11_11(people: dict[str, Any], site: Any) -> None:
    d = deviation_in_state(people, "draft", site=site)
    with pytest.raises(AccessDenied):
        attachment_add(d, actor=people["auditor"], filename="a.pdf", data=PDF)
    assert Attachment.objects.count() == 0


def test_attachment_removal_needs_a_reason_and_keeps_the_file_al_06(
    people: dict[str, Any], site: Any
) -> None:
    author = people["author"]
    d = deviation_in_state(people, "draft", site=site)
    att = attachment_add(d, actor=author, filename="wrong.pdf", data=PDF)
    with pytest.raises(ValidationError) as refused:
        attachment_remove(att, actor=author, reason="   ")
    assert refused.value.message_dict == {"reason": ["A reason is required."]}
    assert Attachment.objects.get(pk=att.pk).removed_at is None
    attachment_remove(att, actor=author, reason="Uploaded to the wrong deviation")
    kept = Attachment.objects.get(pk=att.pk)
    assert (kept.removed_by_id, kept.removed_reason) == (
        author.pk, "Uploaded to the wrong deviation"
    )
    assert kept.removed_at is not None
    assert attachment_read(kept) == PDF
    [entry] = _entries("core.attachment.delete", "core.attachment", att.pk)
    assert (entry.actor_id, entry.reason) == (author.pk, "Uploaded to the wrong deviation")
    with pytest.raises(ValidationError) as again:
        attachment_remove(kept, actor=author, reason="twice")
    assert again.value.message_dict == {"__all__": ["This attachment was already removed."]}


# --- comments -----------------------------------------------------------------------------


def test_comments_are_checked_and_audited(people: dict[str, Any], site: Any) -> None:
    author = people["author"]
    d = deviation_in_state(people, "open", site=site)
    with pytest.raises(ValidationError) as empty:
        comment_add(d, actor=author, body=" \n ")
    assert empty.value.message_dict == {"body": ["Write something first."]}
    with pytest.raises(ValidationError) as long:
        comment_add(d, actor=author, body="x" * 5001)
    assert long.value.message_dict == {"body": ["A comment is at most 5000 characters."]}
    with pytest.raises(AccessDenied):
        comment_add(d, actor=people["auditor"], body="Inspectors only read.")
    c = comment_add(d, actor=author, body="  Sensor replaced on Monday.  ")
    assert (c.body, c.author_id, c.record_type, c.record_id) == (
        "Sensor replaced on Monday.", author.pk, TYPE, str(d.pk)
    )
    assert Comment.objects.count() == 1
    [entry] = _entries("core.comment.add", "core.comment", c.pk)
    assert entry.actor_id == author.pk
    assert entry.changes["body"] == [None, "Sensor replaced on Monday."]


# --- links --------------------------------------------------------------------------------


def test_link_shows_on_both_records_al_10(people: dict[str, Any], site: Any) -> None:
    author = people["author"]
    a = deviation_in_state(people, "draft", site=site, title="Cold room 3")
    b = deviation_in_state(people, "open", site=site, title="Cold room 4")
    link = link_add(a, actor=author, target_number=f" {b.number.lower()} ",
                    relation="caused_by", note="Same compressor")
    [seen_from_a] = links_of(a)
    [seen_from_b] = links_of(b)
    assert {k: seen_from_a[k] for k in (
        "id", "direction", "relation", "relation_label", "other_number", "other_state",
        "other_label", "other_url", "note")} == {
        "id": link.pk, "direction": "outgoing", "relation": "caused_by",
        "relation_label": "Caused by", "other_number": b.number, "other_state": "open",
        "other_label": b.label, "other_url": f"/deviations/{b.pk}/", "note": "Same compressor",
    }
    assert {k: seen_from_b[k] for k in (
        "id", "direction", "relation_label", "other_number", "other_state", "other_url")} == {
        "id": link.pk, "direction": "incoming", "relation_label": "Caused by (from)",
        "other_number": a.number, "other_state": "draft", "other_url": f"/deviations/{a.pk}/",
    }
    [entry] = _entries("core.link.add", "core.link", link.pk)
    assert entry.actor_id == author.pk


def test_link_refusals_name_the_target(
    people: dict[str, Any], site: Any, make_user: Any
) -> None:
    author = people["author"]
    a = deviation_in_state(people, "draft", site=site)
    b = deviation_in_state(people, "draft", site=site)
    elsewhere = deviation_in_state(people, "draft", site=a_site("BER"))
    local = make_user("muc_author", "author", site=site)
    cases = [
        (author, a.number, {"target": ["A record cannot be linked to itself."]}),
        (author, "DEV-1999-9999", {"target": ["No record 'DEV-1999-9999' that you can see."]}),
        (author, "", {"target": ["No record '' that you can see."]}),
        (local, elsewhere.number,
         {"target": [f"No record {elsewhere.number!r} that you can see."]}),
    ]
    for actor, number, errors in cases:
        with pytest.raises(ValidationError) as refused:
            link_add(a, actor=actor, target_number=number)
        assert refused.value.message_dict == errors
    with pytest.raises(ValidationError) as bad_relation:
        link_add(a, actor=author, target_number=b.number, relation="owns")
    assert bad_relation.value.message_dict == {
        "relation": ["Choose one of related, caused_by, spawned, implements, evidence, cites, "
                     "governs, affects."]
    }
    link_add(a, actor=local, target_number=b.number)
    with pytest.raises(ValidationError) as duplicate:
        link_add(a, actor=author, target_number=b.number)
    assert duplicate.value.message_dict == {"target": [f"{b.number} is already linked."]}
    assert RecordLink.objects.count() == 1
    assert AuditEntry.objects.filter(action="core.link.add").count() == 1


def test_link_removal_needs_a_reason_and_is_kept_al_06(
    people: dict[str, Any], site: Any
) -> None:
    author = people["author"]
    a = deviation_in_state(people, "draft", site=site)
    b = deviation_in_state(people, "draft", site=site)
    link = link_add(a, actor=author, target_number=b.number)
    with pytest.raises(ValidationError) as refused:
        link_remove(link, actor=author, reason="")
    assert refused.value.message_dict == {"reason": ["A reason is required."]}
    link_remove(link, actor=author, reason="Not related after all")
    assert (links_of(a), links_of(b)) == ([], [])
    kept = RecordLink.objects.get(pk=link.pk)
    assert kept.removed_reason == "Not related after all"
    assert kept.removed_at is not None
    [entry] = _entries("core.link.delete", "core.link", link.pk)
    assert (entry.actor_id, entry.reason) == (author.pk, "Not related after all")
    with pytest.raises(ValidationError) as again:
        link_remove(kept, actor=author, reason="again")
    assert again.value.message_dict == {"__all__": ["This link was already removed."]}
    relinked = link_add(a, actor=author, target_number=b.number)
    assert [row["id"] for row in links_of(b)] == [relinked.pk]


# --- due-date extensions --------------------------------------------------------------------


def test_extension_approved_by_someone_else_moves_the_due_date(
    people: dict[str, Any], site: Any
) -> None:
    owner, manager = people["process_owner"], people["qa_manager"]
    today = timezone.localdate()
    due, wanted = today + dt.timedelta(days=10), today + dt.timedelta(days=40)
    d = deviation_in_state(people, "open", site=site, due_date=due)
    ext = extension_request(d, actor=owner, requested_due=wanted,
                            justification="  Supplier report arrives late.  ")
    assert (ext.state, ext.current_due, ext.requested_due, ext.justification) == (
        "pending", due, wanted, "Supplier report arrives late."
    )
    with pytest.raises(PermissionDenied) as own:
        extension_decide(ext, actor=owner, approve=True)
    assert str(own.value) == "You asked for this extension; someone else must decide it."
    with pytest.raises(AccessDenied):
        extension_decide(ext, actor=people["author"], approve=True)
    assert Deviation.objects.get(pk=d.pk).due_date == due
    decided = extension_decide(ext, actor=manager, approve=True, note="Fine")
    assert (decided.state, decided.decided_by_id, decided.decision_note) == (
        "approved", manager.pk, "Fine"
    )
    assert Deviation.objects.get(pk=d.pk).due_date == wanted
    [moved] = _entries(f"{TYPE}.due_date.extend", TYPE, d.pk)
    assert (moved.actor_id, moved.reason, moved.changes["due_date"]) == (
        manager.pk, "Extension approved: Supplier report arrives late.",
        [due.isoformat(), wanted.isoformat()],
    )
    [requested] = _entries("core.extension.request", "core.extension", ext.pk)
    [approved] = _entries("core.extension.approve", "core.extension", ext.pk)
    assert (requested.actor_id, approved.actor_id, approved.reason) == (
        owner.pk, manager.pk, "Fine"
    )
    with pytest.raises(ValidationError) as again:
        extension_decide(decided, actor=manager, approve=False, note="changed my mind")
    assert again.value.message_dict == {"__all__": ["This request was already approved."]}


def test_extension_rejection_needs_a_note_and_keeps_the_date(
    people: dict[str, Any], site: Any
) -> None:
    owner, manager = people["process_owner"], people["qa_manager"]
    due = timezone.localdate() + dt.timedelta(days=5)
    d = deviation_in_state(people, "open", site=site, due_date=due)
    ext = extension_request(d, actor=owner, requested_due=due + dt.timedelta(days=1),
                            justification="More samples")
    with pytest.raises(ValidationError) as silent:
        extension_decide(ext, actor=manager, approve=False, note=" ")
    assert silent.value.message_dict == {"note": ["Say why the extension is rejected."]}
    rejected = extension_decide(ext, actor=manager, approve=False, note="Finish it on time")
    assert (rejected.state, rejected.decision_note) == ("rejected", "Finish it on time")
    assert Deviation.objects.get(pk=d.pk).due_date == due
    [entry] = _entries("core.extension.reject", "core.extension", ext.pk)
    assert (entry.actor_id, entry.reason) == (manager.pk, "Finish it on time")
    assert _entries(f"{TYPE}.due_date.extend", TYPE, d.pk) == []


def test_extension_request_checks(people: dict[str, Any], site: Any) -> None:
    owner = people["process_owner"]
    today = timezone.localdate()
    due = today + dt.timedelta(days=10)
    d = deviation_in_state(people, "open", site=site, due_date=due)
    for requested, justification, errors in (
        (due, "why", {"requested_due": [
            f"The new due date must be after the current one ({due.isoformat()})."]}),
        (due - dt.timedelta(days=1), "why", {"requested_due": [
            f"The new due date must be after the current one ({due.isoformat()})."]}),
        (due + dt.timedelta(days=1), "  ", {"justification": ["Say why more time is needed."]}),
    ):
        with pytest.raises(ValidationError) as refused:
            extension_request(d, actor=owner, requested_due=requested,
                              justification=justification)
        assert refused.value.message_dict == errors
    no_due = deviation_in_state(people, "open", site=site, due_date=None)
    with pytest.raises(ValidationError) as past:
        extension_request(no_due, actor=owner, requested_due=today - dt.timedelta(days=1),
                          justification="why")
    assert past.value.message_dict == {
        "requested_due": [f"The due date cannot be before {today.isoformat()}."]
    }
    extension_request(d, actor=owner, requested_due=due + dt.timedelta(days=3),
                      justification="why")
    with pytest.raises(ValidationError) as pending:
        extension_request(d, actor=owner, requested_due=due + dt.timedelta(days=4),
                          justification="why again")
    assert pending.value.message_dict == {"__all__": ["An extension request is already pending."]}
    assert DueDateExtension.objects.count() == 1


# --- logical deletion ---------------------------------------------------------------------


def test_record_delete_only_in_draft_with_a_reason_al_06(
    people: dict[str, Any], site: Any
) -> None:
    author = people["author"]
    opened = deviation_in_state(people, "open", site=site)
    with pytest.raises(ValidationError) as not_draft:
        record_delete(opened, actor=author, reason="duplicate")
    assert not_draft.value.message_dict == {
        "__all__": [f"{opened.number} is open; only records in draft can be deleted."]
    }
    d = deviation_in_state(people, "draft", site=site)
    with pytest.raises(ValidationError) as no_reason:
        record_delete(d, actor=author, reason="")
    assert no_reason.value.message_dict == {"reason": ["A reason is required."]}
    with pytest.raises(AccessDenied):  # QA reviewers hold no delete right
        record_delete(d, actor=people["qa_approver"], reason="duplicate")
    record_delete(d, actor=author, reason="Entered twice")
    kept = Deviation.objects.get(pk=d.pk)
    assert (kept.is_deleted, kept.deleted_by_id, kept.deleted_reason, kept.state) == (
        True, author.pk, "Entered twice", "draft"
    )
    assert kept.deleted_at is not None
    [entry] = _entries(f"{TYPE}.delete", TYPE, d.pk)
    assert (entry.actor_id, entry.reason) == (author.pk, "Entered twice")
    assert entry.changes["is_deleted"] == [False, True]
    with pytest.raises(ValidationError) as twice:
        record_delete(kept, actor=author, reason="again")
    assert twice.value.message_dict == {"__all__": [f"{d.number} is already deleted."]}
    with pytest.raises(RecordClosed) as closed:
        attachment_add(kept, actor=author, filename="a.pdf", data=PDF)
    assert closed.value.message_dict == {
        "__all__": [f"{d.number} is deleted: it cannot be given new attachments."]
    }


# --- event time and due date (AL-03) ----------------------------------------------------------


def test_late_entry_needs_a_reason_al_03(settings: Any) -> None:
    settings.CYBERQMS_LATE_ENTRY_HOURS = 72
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    late = now - dt.timedelta(hours=72, minutes=1)
    with pytest.raises(ValidationError) as refused:
        check_event_time(late, "  ", now=now)
    assert refused.value.message_dict == {"late_entry_reason": [
        "The event is more than 72 hours old: say why it is recorded late."
    ]}
    assert check_event_time(late, " Found in an audit ", now=now) == (True, "Found in an audit")
    assert check_event_time(now - dt.timedelta(hours=71), "ignored", now=now) == (False, "")
    assert check_event_time(None, "ignored", now=now) == (False, "")
    assert check_event_time(now + dt.timedelta(minutes=4), "", now=now) == (False, "")
    with pytest.raises(ValidationError) as future:
        check_event_time(now + dt.timedelta(minutes=6), "", now=now)
    assert future.value.message_dict == {"event_at": ["The event cannot be in the future."]}


def test_late_and_future_events_through_deviation_create_al_03(
    people: dict[str, Any], site: Any
) -> None:
    old = timezone.now() - dt.timedelta(days=10)
    with pytest.raises(ValidationError) as refused:
        deviation_in_state(people, "draft", site=site, event_at=old)
    assert list(refused.value.message_dict) == ["late_entry_reason"]
    d = deviation_in_state(people, "draft", site=site, event_at=old,
                           late_entry_reason="Found during the monthly log review")
    assert (d.late_entry, d.late_entry_reason) == (True, "Found during the monthly log review")
    with pytest.raises(ValidationError) as future:
        deviation_in_state(people, "draft", site=site,
                           event_at=timezone.now() + dt.timedelta(hours=1))
    assert future.value.message_dict == {"event_at": ["The event cannot be in the future."]}
    assert Deviation.objects.count() == 1


def test_due_date_not_before_today() -> None:
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        check_due_date(today - dt.timedelta(days=1))
    assert refused.value.message_dict == {
        "due_date": [f"The due date cannot be before {today.isoformat()}."]
    }
    check_due_date(today)
    check_due_date(None)
    with pytest.raises(ValidationError) as named:
        check_due_date(dt.date(2026, 1, 1), start=dt.date(2026, 1, 2), field="target_date")
    assert named.value.message_dict == {"target_date": ["The due date cannot be before 2026-01-02."]}


# --- history ------------------------------------------------------------------------------


def test_parent_history_includes_every_child_entry_p11_06(
    people: dict[str, Any], site: Any
) -> None:
    author, owner, manager = people["author"], people["process_owner"], people["qa_manager"]
    d = deviation_in_state(people, "draft", site=site)
    other = deviation_in_state(people, "draft", site=site)
    due = d.due_date
    assert due is not None
    att = attachment_add(d, actor=author, filename="a.txt", data=b"evidence")
    comment_add(d, actor=author, body="Looked at it.")
    link = link_add(d, actor=author, target_number=other.number)
    ext = extension_request(d, actor=owner, requested_due=due + dt.timedelta(days=7),
                            justification="Waiting for the lab")
    extension_decide(ext, actor=manager, approve=True)
    ext2 = extension_request(d, actor=owner, requested_due=due + dt.timedelta(days=14),
                             justification="Lab late again")
    extension_decide(ext2, actor=manager, approve=False, note="No")
    attachment_remove(att, actor=author, reason="Wrong file")
    link_remove(link, actor=author, reason="Wrong record")
    record_delete(d, actor=author, reason="Entered in error")
    assert _history(d) == [
        f"{TYPE}.create", "core.attachment.add", "core.comment.add", "core.link.add",
        "core.extension.request", "core.extension.approve", f"{TYPE}.due_date.extend",
        "core.extension.request", "core.extension.reject", "core.attachment.delete",
        "core.link.delete", f"{TYPE}.delete",
    ]
    assert _history(other) == [f"{TYPE}.create", "core.link.add", "core.link.delete"]
    entries = list(record_history(TYPE, str(d.pk)))
    assert all(e.actor_id in {author.pk, owner.pk, manager.pk} for e in entries)
    # The services are the only writers: the deleted record is still there, and the trail
    # holds no entry of another record's children.
    assert Deviation.objects.filter(pk=d.pk, is_deleted=True).count() == 1


def test_author_cannot_edit_another_sites_record_p11_05(
    people: dict[str, Any], site: Any, make_user: Any
) -> None:
    """Site scoping applies to the shared parts: the service authorizes on the parent."""
    elsewhere = deviation_in_state(people, "draft", site=a_site("BER"))
    local = make_user("muc_author", "author", site=site)
    with pytest.raises(AccessDenied):
        attachment_add(elsewhere, actor=local, filename="a.txt", data=b"x")
    with pytest.raises(AccessDenied):
        comment_add(elsewhere, actor=local, body="x")
    with pytest.raises(AccessDenied):
        record_delete(elsewhere, actor=local, reason="x")
    services.deviation_update(elsewhere, actor=people["author"], changes={"area": "Lab"})
    assert (Attachment.objects.count(), Comment.objects.count()) == (0, 0)
