"""The controlled copy of a document version (WeasyPrint): every page carries the number,
version, state and effective date in its header and footer, and the words "uncontrolled
when printed"; the content follows, then the signature manifestation page (who signed
what, when, and what it meant, P11-18). A version not in force says so across each page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

import cyberqms
from cyberqms.platform.kit.record_export import html_to_pdf, utc_text
from cyberqms.platform.kit.record_pages import record_json

from .content import render_markdown
from .enums import DocumentState
from .models import DocumentVersion

# The readers' signatures (training) are not the document's approval: the training record
# holds them, not the manifestation.
READ = "Read and understood"


def controlled_copy(version: DocumentVersion, actor: Any) -> bytes:
    """The version as a PDF for `actor` (who is named on it, with the time of printing)."""
    common = record_json(version, actor, actions=False)
    signatures = [{
        "meaning": s["meaning"], "printed_name": s["printed_name"], "username": s["username"],
        "reason": s["reason"], "superseded": s["superseded"],
        "signed_at": utc_text(_moment(s["signed_at"])),
    } for s in common["signatures"] if s["meaning"] != READ]
    files = [a for a in common["attachments"] if not a.get("removed")]
    html = render_to_string("documents/controlled_copy.html", {
        "version": version, "body_html": render_markdown(version.body),
        "signatures": signatures, "files": files,
        "in_force": version.state == DocumentState.EFFECTIVE,
        "organization": settings.CYBERQMS_ORGANIZATION,
        "printed_by": getattr(actor, "full_name", "") or actor.get_username(),
        "printed_at": utc_text(timezone.now()),
        "application": f"cyberqms {cyberqms.__version__}",
    })
    return html_to_pdf(html, "documents/controlled_copy.css")


def _moment(text: str) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(text)
