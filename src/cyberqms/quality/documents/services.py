"""What document control does besides the kit's create, edit and transitions: number a new
document, start a revision of the version in force, take a DOCX or PDF as a draft's
content, and make approved versions effective on their date (the scheduler's job)."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cyberqms.platform.core.access import Actor, require
from cyberqms.platform.core.models import NumberSequence
from cyberqms.platform.kit.record_parts import link_add
from cyberqms.platform.kit.record_services import record_create
from cyberqms.platform.kit.records import kind_of
from cyberqms.platform.trail.record import audit_record, snapshot

from .enums import ChangeSize, DocumentState
from .models import ControlledDocument, DocumentVersion
from .workflow import take_effect

logger = logging.getLogger("cyberqms.documents")
S = DocumentState
# The states of a version on its way to taking effect: one at a time per document.
UNDER_WAY = (S.DRAFT, S.IN_REVIEW, S.APPROVED)


def document_number(version: DocumentVersion, actor: Actor) -> str:
    """The version's number, `SOP-QA-0007 v1.0`; a new document gets the next number of its
    type and department (the counter row is locked until commit: gap-free, never twice).

    Side effects: for a new document, its row and audit entry `documents.controlled.create`.
    """
    if version.document_id is None:
        prefix = f"{version.doc_type.upper()}-{version.department}"
        # Year 0: document numbers run on across years.
        seq, _ = NumberSequence.objects.select_for_update().get_or_create(prefix=prefix,
                                                                          year=0)
        seq.last += 1
        seq.save(update_fields=["last"])
        document = ControlledDocument.objects.create(
            number=f"{prefix}-{seq.last:04d}", doc_type=version.doc_type,
            department=version.department, site=version.site)
        audit_record("documents.controlled.create", document, actor=actor, created=True)
        version.document = document
    return f"{version.document.number} v{version.major}.{version.minor}"


def document_revise(
    version: DocumentVersion, *, actor: Actor, size: str, change_summary: str,
    change_number: str = "",
) -> DocumentVersion:
    """Start the next version of the document whose version in force is `version`: a draft
    with its content, owned by `actor`, numbered one major or minor step on.

    Side effects: audit entry `documents.document.create` for the new version; the content
    file in force, if any, attached again as the draft's (`documents.document.content`);
    with `change_number`, a link “Implements” to that change control (`core.link.add`).
    :raises ValidationError: naming the field (not the version in force, a revision
        already under way, an unknown size, no summary, a change that cannot be linked).
    """
    kind = kind_of(DocumentVersion)
    require(actor, kind.action("create"), version)
    if size not in ChangeSize.values:
        raise ValidationError({"size": ["Choose a major or a minor revision."]})
    if not change_summary.strip():
        raise ValidationError({"change_summary": ["Say what the revision changes."]})
    with transaction.atomic():
        # One revision at a time per document: the document's row serializes them.
        ControlledDocument.objects.select_for_update().get(pk=version.document_id)
        current = DocumentVersion.objects.get(pk=version.pk)
        if current.state != S.EFFECTIVE or current.is_deleted:
            raise ValidationError({"__all__": [
                "Only the version in force is revised."]})
        under_way = DocumentVersion.objects.filter(
            document_id=current.document_id, state__in=UNDER_WAY, is_deleted=False).first()
        if under_way is not None:
            raise ValidationError({"__all__": [
                f"{under_way.number} is already under way: finish or cancel it first."]})
        latest = DocumentVersion.objects.filter(document_id=current.document_id).order_by(
            "-major", "-minor").values_list("major", "minor").first() or (1, 0)
        major, minor = ((latest[0] + 1, 0) if size == ChangeSize.MAJOR
                        else (latest[0], latest[1] + 1))
        created = record_create(
            kind, actor=actor, site=current.site,
            values={"title": current.title, "description": current.description,
                    "body": current.body, "cyber_relevant": current.cyber_relevant,
                    "owner": actor},
            fixed={"document": current.document, "doc_type": current.doc_type,
                   "department": current.department, "major": major, "minor": minor,
                   "change_summary": change_summary.strip()},
        )
        if current.source is not None:
            # The draft starts from the file in force too, stored again as its own.
            from cyberqms.platform.kit.attachments import AttachmentIntegrityError
            from cyberqms.platform.kit.record_parts import attachment_read

            assert isinstance(created, DocumentVersion)
            try:
                data = attachment_read(current.source)
            except AttachmentIntegrityError:
                raise ValidationError({"__all__": [
                    f"The content file of {current.number} failed its integrity check: it "
                    "was altered outside cyberqms. Tell QA and IT security."]}) from None
            document_content_upload(created, actor=actor, filename=current.source.filename,
                                    data=data)
        if change_number.strip():
            try:
                link_add(created, actor=actor, target_number=change_number,
                         relation="implements")
            except ValidationError as exc:
                raise ValidationError({"change_number": exc.messages}) from None
    assert isinstance(created, DocumentVersion)
    return created


def document_content_upload(
    version: DocumentVersion, *, actor: Actor, filename: str, data: bytes,
) -> DocumentVersion:
    """Make a DOCX or PDF the content of a draft version: checked by content (kit
    attachments and file_checks), hashed and stored encrypted as an attachment of the
    version, its text read for comparisons. A later upload replaces it as the content (the
    earlier file is withdrawn with that reason, and kept, as every file is).

    Side effects: audit entries `core.attachment.add` and `documents.document.content`; the
    file it replaces withdrawn (`core.attachment.delete`, "Replaced by …").
    :raises ValidationError: naming `file` (not a DOCX or PDF, refused by the checks, text
        that cannot be read) or the version (not a draft).
    """
    from cyberqms.platform.kit.record_parts import attachment_add, attachment_remove

    from .files import TYPES, extension, extract_text

    require(actor, kind_of(DocumentVersion).edit_action, version)
    ext = extension(filename)
    if ext not in TYPES:
        raise ValidationError({"file": ["The content file must be a DOCX or a PDF."]})
    if version.state != S.DRAFT or version.is_deleted:
        raise ValidationError({"__all__": [
            f"{version.number} is {version.get_state_display().lower()}: only a draft's "
            "content changes."]})
    text = extract_text(ext, data)  # checks the file too: refused before anything is kept
    with transaction.atomic():
        locked = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        if locked.state != S.DRAFT or locked.is_deleted:
            raise ValidationError({"__all__": ["Only a draft's content changes."]})
        attachment = attachment_add(locked, actor=actor, filename=filename, data=data,
                                    description="Content file")
        previous = locked.source
        before = snapshot(locked)
        locked.source, locked.source_text = attachment, text
        locked.save(update_fields=["source", "source_text", "updated_at"])
        audit_record("documents.document.content", locked, actor=actor, before=before)
        if previous is not None and previous.removed_at is None:
            # Kept, as every file is, but no longer attached as content (AL-06).
            attachment_remove(previous, actor=actor,
                              reason=f"Replaced by {attachment.filename} as the content")
    version.source, version.source_text = locked.source, locked.source_text
    return locked


def make_due_effective(today: dt.date | None = None) -> int:
    """Every approved version whose effective date has come takes effect (cyberqms takes
    the step, `make_effective`); returns how many did. One failing version is logged and
    does not stop the others; safe to run twice."""
    today = today or timezone.localdate()
    done = 0
    due = DocumentVersion.objects.filter(
        state=S.APPROVED, is_deleted=False, effective_date__lte=today,
    ).order_by("effective_date", "pk").values_list("pk", flat=True)
    for pk in due:
        try:
            done += take_effect(pk)
        except Exception:  # one version must not stop the rest; the next run retries it
            logger.exception("document version %s could not take effect", pk)
    return done


def effective_interval() -> float:
    from django.conf import settings

    return float(settings.CYBERQMS_DOCUMENT_EFFECTIVE_INTERVAL)
