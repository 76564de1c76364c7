"""Controlled documents, declared for the record kit: each version is a record; its own
parts are the number, the content, the version history and the controlled copy."""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from cyberqms.platform.core.access import can, capable
from cyberqms.platform.kit.record_filters import RecordFilterSet, YesNoFilter
from cyberqms.platform.kit.records import Column, FormGroup, RecordKind

from .enums import ChangeSize, Department, DocumentState, DocumentType
from .files import content_html
from .models import DocumentVersion
from .services import document_number
from .workflow import DOCUMENT_WORKFLOW
from .workflow import TYPE_NAME as DOCUMENTS_TYPE

S = DocumentState

_PEOPLE = ("owner", "reviewer", "second_reviewer")
_CONTENT = ("title", "description", "body", "change_summary")
_NEW = ("title", "doc_type", "department", "cyber_relevant", "description", "body",
        "owner", "reviewer", "second_reviewer", "effective_date", "due_date")


class DocumentFilter(RecordFilterSet):
    search_fields = ("description", "change_summary")
    doc_type = django_filters.ChoiceFilter(choices=DocumentType.choices, empty_label="Any",
                                           label="Type")
    department = django_filters.ChoiceFilter(choices=Department.choices, empty_label="Any")
    cyber_relevant = YesNoFilter(label="Cyber-relevant")
    sort_fields = (*RecordFilterSet.sort_fields, ("effective_date", "effective"))

    class Meta:
        model = DocumentVersion
        fields: list[str] = []


def page_context(request: HttpRequest, version: DocumentVersion) -> dict[str, Any]:
    """The document page's own blocks: the content, every version of the document, and
    what its reader may do with them (revise, compare, the controlled copy)."""
    versions = list(DocumentVersion.objects.filter(
        document_id=version.document_id, is_deleted=False).order_by("-major", "-minor")
        .only("pk", "number", "major", "minor", "state", "effective_date", "effective_at",
              "closed_at", "change_summary", "title"))
    under_way = any(v.state in (S.DRAFT, S.IN_REVIEW, S.APPROVED) for v in versions)
    return {
        "version": version,
        "body_html": content_html(version),
        "source": version.source if version.source_id is not None else None,
        "can_upload": (version.state == S.DRAFT and not version.is_deleted
                       and can(request.user, "documents.edit", version)),
        "waiver": _waiver(version),
        "versions": versions,
        "compare_with": next((v for v in versions if v.pk != version.pk
                              and (v.major, v.minor) < (version.major, version.minor)),
                             None),
        "can_revise": (version.state == S.EFFECTIVE and not under_way and not version.is_deleted
                       and can(request.user, "documents.create", version)),
        "revision_sizes": ChangeSize.choices,
        "needs_change": version.doc_type in settings.CYBERQMS_DOCUMENT_CHANGE_CONTROL,
    }


def _waiver(version: DocumentVersion) -> Any:
    """QA's signature "No retraining needed" on this version (its reason), or None."""
    if version.retraining_needed:
        return None
    from cyberqms.platform.core.models import Signature

    return Signature.objects.filter(
        record_type=DOCUMENTS_TYPE, record_id=str(version.pk),
        action=f"{DOCUMENTS_TYPE}.waive_retraining").last()


def reviewers_able(version: DocumentVersion, actor: Any, changed: tuple[str, ...]) -> None:
    """A named reviewer is an active person who may work on documents at its site."""
    for name in ("reviewer", "second_reviewer"):
        person = getattr(version, name)
        if name in changed and person is not None and not (
                person.is_active and capable(person, "documents.work", version)):
            raise ValidationError({name: [
                f"{person} cannot review documents at {version.site.code}."]})


def cyber_kept(version: DocumentVersion, actor: Any, changed: tuple[str, ...]) -> None:
    """A revision of a cyber-relevant document stays so unless IT security says otherwise:
    its author cannot drop IT security's approval by unticking the box."""
    if "cyber_relevant" not in changed or version.cyber_relevant or (
            version.document_id is None):
        return
    in_force = DocumentVersion.objects.filter(
        document_id=version.document_id, state=S.EFFECTIVE).exclude(pk=version.pk).first()
    if in_force is not None and in_force.cyber_relevant and not can(
            actor, "documents.security_approve", version):
        raise ValidationError({"cyber_relevant": [
            "Only IT security decides that a revision of a cyber-relevant document is not."]})


def version_badges(version: DocumentVersion) -> list[tuple[str, str, str]]:
    badges = []
    if version.cyber_relevant:
        badges.append(("warn", "cyber", "Cyber-relevant: IT security approves it too."))
    return badges


DOCUMENTS = RecordKind(
    slug="documents", model=DocumentVersion, workflow=DOCUMENT_WORKFLOW, prefix="DOC",
    label="Document", action_prefix="documents",
    closed_states=(S.SUPERSEDED, S.OBSOLETE, S.CANCELLED),
    summary="Controlled policies, SOPs, work instructions, forms, specifications and "
            "validation deliverables: review and approval with e-signatures, one version in "
            "force at a time, periodic review and controlled copies.",
    nav_section="Quality", nav_icon="file", nav_order=5,
    filterset=DocumentFilter, row_badges=version_badges, checks=(reviewers_able, cyber_kept),
    own_grants={"security_approve": ("it_security",)},
    attachment_states=(S.DRAFT,),
    # A named reviewer reviews: one who lacks the training the review needs is not named.
    assignees={"reviewer": ("review",), "second_reviewer": ("review",)},
    numbering=document_number,
    number_prefixes=tuple(t.upper() for t in DocumentType.values),
    number_shape="TYPE-DEPT-NNNN vMAJOR.MINOR",
    columns=(Column("number", "Number", "number"), Column("title", "Title", "title"),
             Column("doc_type", "Type"), Column("department", "Department"),
             Column("state", "State", "state"), Column("site", "Site"),
             Column("owner", "Owner"), Column("effective_date", "Effective", "effective"),
             Column("due_date", "Due", "due")),
    create_fields=_NEW,
    editable={
        S.DRAFT: frozenset({*_CONTENT, *_PEOPLE, "cyber_relevant", "effective_date",
                            "due_date"}),
        # A document in force changes hands (its owner leaves); its content never does.
        S.EFFECTIVE: frozenset({"owner"}),
    },
    labels={"due_date": "Due", "description": "Purpose and scope",
            "body": "Content (Markdown)"},
    sections=(
        ("Document", ("doc_type", "department", "cyber_relevant", "effective_date",
                      "effective_at", "due_date")),
        ("Purpose and change", ("description", "change_summary")),
        ("Review and approval", ("reviewer", "reviewed_at", "second_reviewer",
                                 "second_reviewed_at", "security_approved_at")),
    ),
    form_groups=(
        FormGroup("Document", ("title", "doc_type", "department", "cyber_relevant",
                               "description"),
                  "The type and department make the number (SOP-QA-0007); they stay with "
                  "every version."),
        FormGroup("Content", ("body", "change_summary"),
                  "Write the text in Markdown, or upload a DOCX or PDF on the document's "
                  "page once created: an uploaded file is the content, in place of the "
                  "text."),
        FormGroup("Review and approval", ("owner", "reviewer", "second_reviewer",
                                          "effective_date", "due_date"),
                  "Reviewers sign “Reviewed”; QA then approves (and IT security, for a "
                  "cyber-relevant document). It takes effect on its effective date; the "
                  "due date is when you aim to have it approved."),
    ),
    detail_template="documents/document_detail.html", detail_context=page_context,
    api_list_fields=("doc_type", "department", "effective_date"),
    own_urls="cyberqms.quality.documents.urls", own_api="cyberqms.quality.documents.api",
)
