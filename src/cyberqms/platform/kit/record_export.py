"""A record as a document: its data, signature manifestations and audit trail, as PDF
(WeasyPrint) and JSON (P11-03 accurate and complete copies, A11-14 printouts).

The document is built once (`record_document`) and rendered twice, so the PDF and the JSON
always say the same thing. A family adds its own tables (CAPA actions, change tasks …) with
a `document_sections(self) -> list[Section]` method on its model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

import cyberqms
from cyberqms.platform.trail.canonical import canonical_json
from cyberqms.platform.trail.display import entry_rows, viewer_zone
from cyberqms.platform.trail.queries import record_history

from .record_pages import record_fields, record_json
from .records import QualityRecord, kind_of


@dataclass
class Section:
    """A table of child rows for the document (CAPA actions, change tasks …)."""

    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class RecordDocument:
    record: QualityRecord
    kind_label: str
    generated_at: datetime
    generated_by: str
    fields: list[tuple[str, str]]
    sections: list[Section]
    common: dict[str, Any]
    trail: list[Any]
    zone_name: str
    meta: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": "cyberqms.record/1",
            "organization": settings.CYBERQMS_ORGANIZATION,
            "generated_at": self.generated_at.isoformat(),
            "generated_by": self.generated_by,
            "application": f"cyberqms {cyberqms.__version__}",
            "record": self.common,
            "fields": [{"label": label, "value": value} for label, value in self.fields],
            "sections": [
                {"title": s.title, "columns": s.columns, "rows": s.rows} for s in self.sections
            ],
            "audit_trail": [
                {
                    "seq": row.seq,
                    "at": row.at.isoformat() if row.at else None,
                    "actor": row.actor_name,
                    "username": row.actor_username,
                    "action": row.action,
                    "object": row.object_label,
                    "changes": {c.field: [c.old, c.new] for c in row.changes},
                    "reason": row.reason,
                    "signature": row.signature,
                }
                for row in self.trail
            ],
        }
        # A digest of the content lets a reader check two copies are the same document.
        content = {k: v for k, v in body.items() if k not in ("generated_at", "generated_by")}
        body["content_sha256"] = hashlib.sha256(canonical_json(content)).hexdigest()
        return body


def record_document(record: QualityRecord, actor: Any) -> RecordDocument:
    kind = kind_of(record)
    zone = viewer_zone(actor)
    sections_of = getattr(kind.model, "document_sections", None)
    sections: list[Section] = list(sections_of(record)) if callable(sections_of) else []
    entries = record_history(kind.type_name, str(record.pk)).order_by("seq")
    return RecordDocument(
        record=record,
        kind_label=kind.label,
        generated_at=timezone.now(),
        generated_by=(getattr(actor, "full_name", "") or actor.get_username()),
        fields=record_fields(record),
        sections=sections,
        common=record_json(record, actor, actions=False),
        trail=entry_rows(entries, zone),
        zone_name=str(zone),
    )


def render_pdf(document: RecordDocument) -> bytes:
    """The document as PDF. WeasyPrint reads no URL: everything is inline in the HTML."""
    from weasyprint import HTML

    digest = document.as_json()["content_sha256"]
    html = render_to_string("core/record_pdf.html", {
        "doc": document, "record": document.record, "common": document.common,
        "organization": settings.CYBERQMS_ORGANIZATION, "digest": digest,
        "version": cyberqms.__version__,
    })

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"external resource refused: {url[:80]}")

    pdf: bytes = HTML(string=html, url_fetcher=no_fetch).write_pdf()
    return pdf
