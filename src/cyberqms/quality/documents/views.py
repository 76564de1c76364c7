"""The document's own pages besides the kit's: its controlled copy, its content file, the
start of a revision, and the comparison of two versions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from cyberqms.platform.core.access import AccessDenied
from cyberqms.platform.core.moments import in_utc
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.family_pages import load_record
from cyberqms.platform.kit.records import kind_of
from cyberqms.platform.kit.words import problem_text

from .content import diff_rows
from .copies import controlled_copy
from .models import DocumentVersion
from .services import document_content_upload, document_revise


def _version(request: HttpRequest, pk: int) -> DocumentVersion:
    version: DocumentVersion = load_record(kind_of(DocumentVersion), request, pk)
    return version


@gated("documents.view")
@require_GET
@in_utc
def copy(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    try:
        pdf = controlled_copy(version, page_actor(request))
    except ValidationError as exc:
        messages.error(request, problem_text(exc, DocumentVersion))
        return redirect("documents:detail", version.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{version.number.replace(' ', '_')}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@gated("documents.create")
@require_POST
def revise(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    try:
        created = document_revise(
            version, actor=page_actor(request), size=request.POST.get("size", ""),
            change_summary=request.POST.get("change_summary", ""),
            change_number=request.POST.get("change_number", ""))
    except AccessDenied:
        raise PermissionDenied from None
    except ValidationError as exc:
        messages.error(request, problem_text(exc, DocumentVersion))
        return redirect("documents:detail", version.pk)
    messages.success(request, f"{created.number} started as a draft: edit it, then send it "
                              "for review.")
    return redirect("documents:detail", created.pk)


@gated("documents.edit")
@require_POST
def content(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose the DOCX or PDF to upload.")
        return redirect("documents:detail", version.pk)
    if (upload.size or 0) > settings.CYBERQMS_ATTACHMENT_MAX_BYTES:
        messages.error(request, f"The file is larger than "
                                f"{settings.CYBERQMS_ATTACHMENT_MAX_BYTES // 1024} KiB.")
        return redirect("documents:detail", version.pk)
    try:
        document_content_upload(version, actor=page_actor(request),
                                filename=upload.name or "", data=upload.read())
    except AccessDenied:
        raise PermissionDenied from None
    except ValidationError as exc:
        messages.error(request, problem_text(exc, DocumentVersion))
        return redirect("documents:detail", version.pk)
    messages.success(request, f"{upload.name} is now the content of {version.number}.")
    return redirect("documents:detail", version.pk)


@gated("documents.view")
@require_GET
def compare(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    version = _version(request, pk)
    older = _version(request, other)
    if older.document_id != version.document_id:
        raise Http404
    if (older.major, older.minor) > (version.major, version.minor):
        older, version = version, older
    rows = diff_rows(older.text(), version.text())
    return render(request, "documents/compare.html", {
        "older": older, "newer": version, "rows": rows,
        "added": sum(r.kind in ("added", "changed") for r in rows),
        "removed": sum(r.kind in ("removed", "changed") for r in rows),
        "kind": kind_of(DocumentVersion),
    })
